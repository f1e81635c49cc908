import { useState } from 'react';

/** Summaries of a metric's whole history a runs table can show besides its latest value. */
export const METRIC_STATS = ['min', 'max', 'mean', 'count'] as const;
export type MetricStat = (typeof METRIC_STATS)[number];

type KeyKind = 'm:' | 'p:' | 't:';

/**
 * A key column's id (`cols=` in the URL): `m:loss` (latest value), `m:loss@min`, `p:lr`, `t:team`.
 * MLflow's metric names cannot hold `@` (nor the `,` that separates ids), so the suffix is unambiguous.
 */
export function parseColumnId(id: string): { kind?: KeyKind; key: string; stat?: MetricStat } {
  const kind = id.slice(0, 2);
  if (kind !== 'm:' && kind !== 'p:' && kind !== 't:') return { key: id };
  const key = id.slice(2);
  const at = key.lastIndexOf('@');
  const stat = key.slice(at + 1) as MetricStat;
  if (kind === 'm:' && at > 0 && METRIC_STATS.includes(stat)) return { kind, key: key.slice(0, at), stat };
  return { kind, key };
}

/**
 * The picker's key filter: `/regex/flags`, a glob when it has `*` or `?` (`val_*`, the whole key,
 * ignoring case), else a substring ignoring case. An invalid regular expression is reported.
 */
export function keyMatcher(text: string): { matches(key: string): boolean; error?: string } {
  const regex = /^\/(.*)\/([a-z]*)$/.exec(text);
  if (regex) {
    try {
      const pattern = new RegExp(regex[1]!, regex[2]);
      return { matches: (key) => pattern.test(key) };
    } catch (error) {
      return { matches: () => false, error: (error as Error).message };
    }
  }
  if (/[*?]/.test(text)) {
    const source = text
      .split('')
      .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/, '\\$&')))
      .join('');
    const pattern = new RegExp(`^${source}$`, 'i');
    return { matches: (key) => pattern.test(key) };
  }
  const needle = text.toLowerCase();
  return { matches: (key) => key.toLowerCase().includes(needle) };
}

interface PickerOptions {
  onlyVarying: boolean;
  hideEmpty: boolean;
}

/**
 * The column picker: metric (latest, min, max, mean, count), parameter and tag keys, found by substring,
 * glob or `/regex/`, added or removed all at once; and the "only columns that vary" and "hide empty
 * columns" switches. Its list is rendered only while open (experiments log thousands of keys).
 */
export function ColumnPicker({
  keys,
  chosen,
  onChange,
  onlyVarying,
  hideEmpty,
  onOptions,
}: {
  keys: { metrics: string[]; params: string[]; tags: string[] };
  chosen: string[];
  onChange(columns: string[]): void;
  onOptions(options: PickerOptions): void;
} & PickerOptions) {
  const [open, setOpen] = useState(false);
  const [search, setSearch] = useState('');
  const matcher = keyMatcher(search);
  const groups = [
    { title: 'Metrics', prefix: 'm:', keys: keys.metrics },
    { title: 'Parameters', prefix: 'p:', keys: keys.params },
    { title: 'Tags', prefix: 't:', keys: keys.tags },
  ].map((group) => ({ ...group, keys: group.keys.filter(matcher.matches) }));
  const matching = groups.flatMap((group) => group.keys.map((key) => `${group.prefix}${key}`));
  const chosenSet = new Set(chosen);

  function toggle(id: string) {
    onChange(chosenSet.has(id) ? chosen.filter((c) => c !== id) : [...chosen, id]);
  }
  const boxProps = (id: string) => ({ checked: chosenSet.has(id), onChange: () => toggle(id) });

  return (
    <details className="picker" onToggle={(event) => setOpen(event.currentTarget.open)}>
      <summary>Columns ({chosen.length})</summary>
      {open ? (
        <div className="picker-panel">
          <label>
            Find keys{' '}
            <input
              type="search"
              value={search}
              title="Text, a glob such as val_* or a /regular expression/"
              onChange={(event) => setSearch(event.target.value)}
            />
          </label>
          {matcher.error ? (
            <p role="alert" className="error">
              {matcher.error}
            </p>
          ) : null}
          <div className="toolbar">
            <button
              type="button"
              disabled={search === '' || matching.every((id) => chosenSet.has(id))}
              onClick={() => onChange([...chosen, ...matching.filter((id) => !chosenSet.has(id))])}
            >
              Add {matching.length} matching
            </button>
            <button
              type="button"
              disabled={search === ''}
              onClick={() => {
                // Removes a metric's summary columns with its latest value.
                const keysOf = new Set(matching);
                onChange(
                  chosen.filter((id) => {
                    const { kind, key } = parseColumnId(id);
                    return !keysOf.has(`${kind}${key}`);
                  }),
                );
              }}
            >
              Remove matching
            </button>
          </div>
          <label className="picker-item">
            <input
              type="checkbox"
              checked={onlyVarying}
              onChange={() => onOptions({ onlyVarying: !onlyVarying, hideEmpty })}
            />{' '}
            Only columns that vary
          </label>
          <label className="picker-item">
            <input
              type="checkbox"
              checked={hideEmpty}
              onChange={() => onOptions({ onlyVarying, hideEmpty: !hideEmpty })}
            />{' '}
            Hide empty columns
          </label>
          {groups.map((group) => (
            <fieldset key={group.title}>
              <legend>{group.title}</legend>
              {group.keys.map((key) => {
                const id = `${group.prefix}${key}`;
                return group.prefix === 'm:' ? (
                  <div key={id} className="picker-item picker-metric">
                    <label>
                      <input type="checkbox" {...boxProps(id)} /> {key}
                    </label>
                    {METRIC_STATS.map((stat) => (
                      <label key={stat} className="muted">
                        <input
                          type="checkbox"
                          aria-label={`${key} (${stat})`}
                          {...boxProps(`${id}@${stat}`)}
                        />{' '}
                        {stat}
                      </label>
                    ))}
                  </div>
                ) : (
                  <label key={id} className="picker-item">
                    <input type="checkbox" {...boxProps(id)} /> {key}
                  </label>
                );
              })}
            </fieldset>
          ))}
        </div>
      ) : null}
    </details>
  );
}
