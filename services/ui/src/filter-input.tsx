import { type KeyboardEvent, useId, useState } from 'react';

const ATTRIBUTES = ['run_name', 'status', 'start_time', 'end_time', 'user_id', 'run_id', 'artifact_uri'];
const MAX_SUGGESTIONS = 12;

/** An identifier of MLflow's filter grammar: back-quoted unless a plain name (`metrics.\`val/loss\``). */
function identifier(entity: string, key: string): string {
  return /^[A-Za-z_]\w*$/.test(key) ? `${entity}.${key}` : `${entity}.\`${key}\``;
}

/**
 * The identifiers that complete the word before the caret: `metrics.`, `params.`, `tags.` and
 * `attributes.` entries of the entity typed (a prefix of its name, or the name and a dot) whose key
 * contains the rest (ignoring case and back-quotes). Other words (`and`, values) get none.
 */
export function suggestions(
  text: string,
  caret: number,
  keys: { metrics: string[]; params: string[]; tags: string[] },
): { start: number; items: string[] } {
  // The word being typed: a plain run (`metrics.acc`), or an identifier with an open back-quote (`tags.\`my k`).
  const word = /(?:\w+\.`[^`]*|[\w./-]+)$/.exec(text.slice(0, caret))?.[0] ?? '';
  const start = caret - word.length;
  if (word.length === 0) return { start, items: [] };
  const needle = word.replaceAll('`', '').toLowerCase();
  const all = [
    ...keys.metrics.map((key) => identifier('metrics', key)),
    ...keys.params.map((key) => identifier('params', key)),
    ...keys.tags.map((key) => identifier('tags', key)),
    ...ATTRIBUTES.map((key) => identifier('attributes', key)),
  ];
  // `met` offers every metric; `metrics.los` the metrics whose key contains `los`.
  const dot = needle.indexOf('.');
  const matches = (candidate: string) =>
    dot === -1
      ? candidate.startsWith(needle)
      : candidate.startsWith(needle.slice(0, dot + 1)) &&
        candidate.slice(dot + 1).includes(needle.slice(dot + 1));
  const items = all.filter((item) => item !== word && matches(item.replaceAll('`', '').toLowerCase()));
  return { start, items: items.slice(0, MAX_SUGGESTIONS) };
}

/**
 * The runs filter box: MLflow's grammar typed freely, with the experiment's keys offered for the word
 * being typed (a combobox: arrows to move, Enter or Tab to take, Escape to close).
 */
export function FilterInput({
  id,
  value,
  onChange,
  keys,
}: {
  id: string;
  value: string;
  onChange(value: string): void;
  keys: { metrics: string[]; params: string[]; tags: string[] };
}) {
  const listId = useId();
  const [caret, setCaret] = useState(value.length);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const { start, items } = suggestions(value, caret, keys);
  const shown = open && items.length > 0;

  function take(item: string) {
    const next = `${value.slice(0, start)}${item} ${value.slice(caret)}`;
    onChange(next);
    setCaret(start + item.length + 1);
    setOpen(false);
  }
  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (!shown) return;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      setActive((current) => (current + step + items.length) % items.length);
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      event.preventDefault();
      take(items[Math.min(active, items.length - 1)]!);
    } else if (event.key === 'Escape') {
      setOpen(false);
    }
  }
  return (
    <span className="combobox">
      <input
        id={id}
        type="search"
        name="filter"
        className="grow"
        role="combobox"
        aria-expanded={shown}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={shown ? `${listId}-${active}` : undefined}
        placeholder="metrics.rmse < 1 and params.model = 'lr'"
        autoComplete="off"
        value={value}
        onChange={(event) => {
          onChange(event.target.value);
          setCaret(event.target.selectionStart ?? event.target.value.length);
          setActive(0);
          setOpen(true);
        }}
        onKeyDown={onKeyDown}
        onBlur={() => setOpen(false)}
      />
      {shown ? (
        <div id={listId} role="listbox" aria-label="Filter keys" className="suggestions">
          {items.map((item, i) => (
            // biome-ignore lint/a11y/useFocusableInteractive: focus stays on the combobox (aria-activedescendant), as in WAI-ARIA's combobox pattern.
            <div
              key={item}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              onMouseDown={(event) => {
                event.preventDefault();
                take(item);
              }}
            >
              {item}
            </div>
          ))}
        </div>
      ) : null}
    </span>
  );
}
