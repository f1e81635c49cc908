import { compareInt64, type Int64 } from '@mast/common';

/**
 * The steps MLflow's `get-history-bulk-interval` returns points at (spec §1.2, MLflow's
 * `_get_sampled_steps_from_steps`): `maxResults` evenly spaced steps over the union of the runs' steps
 * within [start, end], plus the last of them, plus each run's first and last step when within range.
 * Every step when there are no more than `maxResults` of them.
 *
 * @param stepsByRun each run's distinct logged steps of the metric (any order)
 * @param start first step wanted (0 when absent)
 * @param end last step wanted (the largest logged step when absent)
 */
export function sampleSteps(
  stepsByRun: ReadonlyMap<string, readonly Int64[]>,
  start: Int64 | undefined,
  end: Int64 | undefined,
  maxResults: number,
): Int64[] {
  // Steps are int64: a number, or a bigint beyond 2^53 (one representation per value, so a Set dedupes).
  const all = [...new Set([...stepsByRun.values()].flat())].sort(compareInt64);
  if (all.length === 0) return [];
  const from = start ?? 0;
  const to = end ?? all[all.length - 1]!;
  const inRange = all.filter((step) => step >= from && step <= to);
  const chosen = new Set<Int64>();
  if (inRange.length <= maxResults) {
    for (const step of inRange) chosen.add(step);
  } else {
    for (let i = 0; i < maxResults; i++) chosen.add(inRange[Math.floor((i * inRange.length) / maxResults)]!);
    chosen.add(inRange[inRange.length - 1]!);
  }
  for (const steps of stepsByRun.values()) {
    // A loop, not Math.min(...steps): a long series would overflow the call's argument limit.
    let first: Int64 | undefined;
    let last: Int64 | undefined;
    for (const step of steps) {
      if (first === undefined || step < first) first = step;
      if (last === undefined || step > last) last = step;
    }
    if (first !== undefined && first >= from && first <= to) chosen.add(first);
    if (last !== undefined && last >= from && last <= to) chosen.add(last);
  }
  return [...chosen].sort(compareInt64);
}
