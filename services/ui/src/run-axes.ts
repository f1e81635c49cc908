/**
 * The axes of the compare page's plots (parallel coordinates, scatter): a param (`p:<key>`) or metric
 * (`m:<key>`) of the compared runs, numeric when every value it has is a finite number, categorical
 * otherwise (categories sorted, evenly spaced). A brush is a closed range in the axis's value space:
 * values on a numeric axis, category indices on a categorical one.
 */

/** A run's values by axis key (`p:lr`, `m:accuracy`); a run without the key has no entry. */
export interface PlottedRun {
  id: string;
  name: string;
  values: ReadonlyMap<string, number | string>;
}

export type Axis =
  | { key: string; kind: 'numeric'; min: number; max: number }
  | { key: string; kind: 'categorical'; categories: string[] };

export type Brushes = ReadonlyMap<string, readonly [number, number]>;

/** The axis of `key` over `runs`: its value range, or its categories. */
export function buildAxis(key: string, runs: readonly PlottedRun[]): Axis {
  const values = runs.flatMap((run) => {
    const value = run.values.get(key);
    return value === undefined ? [] : [value];
  });
  const numbers = values.map(Number);
  if (values.length > 0 && numbers.every(Number.isFinite)) {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const number of numbers) {
      if (number < min) min = number;
      if (number > max) max = number;
    }
    return { key, kind: 'numeric', min, max };
  }
  return { key, kind: 'categorical', categories: [...new Set(values.map(String))].sort() };
}

/** A value in the axis's value space (the number, or the category's index); undefined when missing. */
export function axisValue(axis: Axis, value: number | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (axis.kind === 'numeric') {
    const number = Number(value);
    return Number.isFinite(number) ? number : undefined;
  }
  const index = axis.categories.indexOf(String(value));
  return index < 0 ? undefined : index;
}

/** The value space's ends: a single value or category sits in the middle of the axis. */
function extent(axis: Axis): [number, number] {
  const [low, high] = axis.kind === 'numeric' ? [axis.min, axis.max] : [0, axis.categories.length - 1];
  return low === high ? [low - 1, high + 1] : [low, high];
}

/** Where a value-space number sits along the axis, 0 (low end) to 1 (high end). */
export function toFraction(axis: Axis, value: number): number {
  const [low, high] = extent(axis);
  return (value - low) / (high - low);
}

/** The value-space number at a fraction of the axis (the inverse of `toFraction`). */
export function fromFraction(axis: Axis, fraction: number): number {
  const [low, high] = extent(axis);
  return low + fraction * (high - low);
}

/** A tick label of the axis: a number in 4 significant digits, or a category. */
export function axisLabel(axis: Axis, value: number): string {
  if (axis.kind === 'categorical') return axis.categories[Math.round(value)] ?? '';
  return Number.parseFloat(value.toPrecision(4)).toString();
}

/** The ids of the runs inside every brush (all runs when there is none). */
export function runsInside(
  runs: readonly PlottedRun[],
  axes: readonly Axis[],
  brushes: Brushes,
): Set<string> {
  const brushed = axes.flatMap((axis) => {
    const range = brushes.get(axis.key);
    return range ? [{ axis, range }] : [];
  });
  const inside = new Set<string>();
  for (const run of runs) {
    const keep = brushed.every(({ axis, range }) => {
      const value = axisValue(axis, run.values.get(axis.key));
      return value !== undefined && value >= range[0] && value <= range[1];
    });
    if (keep) inside.add(run.id);
  }
  return inside;
}

/**
 * Brushes as the URL writes them: `<axis>:<low>:<high>` joined by `;` (keys may hold `:` but not `;`,
 * so the two numbers are the last two fields).
 */
export function parseBrushes(text: string): Map<string, [number, number]> {
  const brushes = new Map<string, [number, number]>();
  for (const item of text.split(';')) {
    const fields = item.split(':');
    if (fields.length < 4) continue;
    const high = Number(fields.pop());
    const low = Number(fields.pop());
    if (Number.isFinite(low) && Number.isFinite(high)) brushes.set(fields.join(':'), [low, high]);
  }
  return brushes;
}

export function formatBrushes(brushes: Brushes): string | undefined {
  const items = [...brushes].map(([key, [low, high]]) => `${key}:${short(low)}:${short(high)}`);
  return items.length > 0 ? items.join(';') : undefined;
}

/** A brush end in 6 significant digits: a short URL, and well below a pixel's worth of precision. */
function short(value: number): string {
  return Number.parseFloat(value.toPrecision(6)).toString();
}
