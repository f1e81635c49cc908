import { type FormEvent, useMemo, useState } from 'react';
import { CompareTable, compareRows } from './compare-table';
import { ParallelCoordinates } from './parallel-coordinates';
import { type Brushes, buildAxis, type PlottedRun } from './run-axes';
import { ScatterPlot } from './scatter-plot';

/** A charted run with what the cards beside the line charts plot: its params and latest metrics. */
export interface CardRun extends PlottedRun {
  color: string;
}

/**
 * A card of MLflow's chart view besides the line charts, as the URL writes it (`?cards=`, comma
 * separated): `bar:m:loss`, `scatter:p:lr:m:loss`, `parallel` (the keys that differ) and `diff`.
 */
export type Card =
  | { type: 'bar'; key: string }
  | { type: 'scatter'; x: string; y: string }
  | { type: 'parallel' }
  | { type: 'diff' };

const CARD_TYPES: Record<Card['type'], string> = {
  bar: 'Bar chart',
  scatter: 'Scatter plot',
  parallel: 'Parallel coordinates',
  diff: 'Difference table',
};

/** Parallel coordinates draw this many axes at most: beyond it the lines are unreadable. */
const MAX_AXES = 8;

export function parseCard(text: string): Card | undefined {
  if (text === 'parallel' || text === 'diff') return { type: text };
  if (text.startsWith('bar:')) return { type: 'bar', key: text.slice(4) };
  // Axis keys start with `p:` or `m:`; the second one starts at the last `:p:` or `:m:`.
  const scatter = /^scatter:([pm]:.+):([pm]:.+)$/.exec(text);
  return scatter ? { type: 'scatter', x: scatter[1]!, y: scatter[2]! } : undefined;
}

export function formatCard(card: Card): string {
  if (card.type === 'bar') return `bar:${card.key}`;
  if (card.type === 'scatter') return `scatter:${card.x}:${card.y}`;
  return card.type;
}

/** Every param (`p:`) and metric (`m:`) key of the runs, sorted. */
function axisKeys(runs: readonly PlottedRun[]): string[] {
  return [...new Set(runs.flatMap((run) => [...run.values.keys()]))].sort();
}

/** Keys whose values differ between the runs (a missing value counts as different). */
function differingKeys(runs: readonly PlottedRun[]): string[] {
  return axisKeys(runs).filter((key) => new Set(runs.map((run) => run.values.get(key))).size > 1);
}

/** The latest value of a metric per run, as horizontal HTML bars scaled to the largest magnitude. */
function BarCard({ runs, metricKey }: { runs: readonly CardRun[]; metricKey: string }) {
  const bars = runs.flatMap((run) => {
    const value = Number(run.values.get(metricKey));
    return run.values.has(metricKey) && Number.isFinite(value) ? [{ run, value }] : [];
  });
  const largest = Math.max(0, ...bars.map((bar) => Math.abs(bar.value))) || 1;
  return (
    <ul
      className="bar-chart"
      aria-label={`${metricKey.slice(2)}: latest value per run`}
      data-bars={bars.length}
    >
      {bars.map(({ run, value }) => (
        <li key={run.id}>
          <span className="bar-label">{run.name}</span>
          <span className="bar-track">
            <span
              className="bar"
              style={{ width: `${(Math.abs(value) / largest) * 100}%`, background: run.color }}
            />
          </span>
          <span className="bar-value">{Number.parseFloat(value.toPrecision(4))}</span>
        </li>
      ))}
      {bars.length === 0 ? <li className="muted">No run has this metric.</li> : null}
    </ul>
  );
}

function ParallelCard({ runs }: { runs: readonly CardRun[] }) {
  const [brushes, setBrushes] = useState<Brushes>(new Map());
  const axes = useMemo(
    () =>
      differingKeys(runs)
        .slice(0, MAX_AXES)
        .map((key) => buildAxis(key, runs)),
    [runs],
  );
  if (axes.length === 0) return <p className="muted">No param or metric differs between the runs.</p>;
  return <ParallelCoordinates runs={runs} axes={axes} brushes={brushes} onBrushesChange={setBrushes} />;
}

function CardBody({ card, runs }: { card: Card; runs: readonly CardRun[] }) {
  switch (card.type) {
    case 'bar':
      return <BarCard runs={runs} metricKey={card.key} />;
    case 'scatter':
      return (
        <ScatterPlot
          runs={runs}
          x={buildAxis(card.x, runs)}
          y={buildAxis(card.y, runs)}
          highlighted={new Set(runs.map((run) => run.id))}
        />
      );
    case 'parallel':
      return <ParallelCard runs={runs} />;
    case 'diff':
      return (
        <CompareTable
          caption="Params and latest metrics that differ"
          headers={runs.map((run) => run.name)}
          rows={compareRows(runs, (run) => [...run.values].map(([key, value]) => ({ key, value })))}
          differencesOnly
          empty="No param or metric logged."
        />
      );
  }
}

function cardTitle(card: Card): string {
  if (card.type === 'bar') return `${card.key.slice(2)} (latest)`;
  if (card.type === 'scatter') return `${card.y.slice(2)} against ${card.x.slice(2)}`;
  return CARD_TYPES[card.type];
}

/** The "Add chart" control: a card type and, for bars and scatter plots, the keys it plots. */
function AddCard({ keys, onAdd }: { keys: string[]; onAdd(card: Card): void }) {
  const metrics = keys.filter((key) => key.startsWith('m:'));
  const [type, setType] = useState<Card['type']>('bar');
  const [x, setX] = useState('');
  const [y, setY] = useState('');
  const xKey = (type === 'bar' ? metrics : keys).includes(x) ? x : (type === 'bar' ? metrics : keys)[0];
  const yKey = keys.includes(y) ? y : (metrics[0] ?? keys[0]);
  function add(event: FormEvent) {
    event.preventDefault();
    if (type === 'bar' && xKey) onAdd({ type, key: xKey });
    else if (type === 'scatter' && xKey && yKey) onAdd({ type, x: xKey, y: yKey });
    else if (type === 'parallel' || type === 'diff') onAdd({ type });
  }
  const options = (list: string[]) =>
    list.map((key) => (
      <option key={key} value={key}>
        {key.startsWith('p:') ? 'param' : 'metric'} {key.slice(2)}
      </option>
    ));
  return (
    <form className="toolbar" aria-label="Add chart" onSubmit={add}>
      <label>
        Chart type{' '}
        <select
          aria-label="Chart type"
          value={type}
          onChange={(event) => setType(event.target.value as Card['type'])}
        >
          {Object.entries(CARD_TYPES).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      {type === 'bar' || type === 'scatter' ? (
        <label>
          {type === 'bar' ? 'Metric' : 'X'}{' '}
          <select
            aria-label={type === 'bar' ? 'Metric' : 'X'}
            value={xKey ?? ''}
            onChange={(event) => setX(event.target.value)}
          >
            {options(type === 'bar' ? metrics : keys)}
          </select>
        </label>
      ) : null}
      {type === 'scatter' ? (
        <label>
          Y{' '}
          <select aria-label="Y" value={yKey ?? ''} onChange={(event) => setY(event.target.value)}>
            {options(keys)}
          </select>
        </label>
      ) : null}
      <button type="submit">Add chart</button>
    </form>
  );
}

/**
 * The cards the user added (MLflow's chart types besides line charts) over the charted runs' params and
 * latest metrics, each removable; `onChange` gets the new list for the URL.
 */
export function AddedCards({
  cards,
  runs,
  onChange,
}: {
  cards: readonly Card[];
  runs: readonly CardRun[];
  onChange(cards: Card[]): void;
}) {
  const keys = useMemo(() => axisKeys(runs), [runs]);
  return (
    <section aria-label="Added charts">
      <AddCard keys={keys} onAdd={(card) => onChange([...cards, card])} />
      <div className="added-cards">
        {cards.map((card, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: the same card may be added twice
          <article key={i} className="chart-card added-card" data-added-card={card.type}>
            <h3>
              {cardTitle(card)}{' '}
              <button
                type="button"
                className="link"
                aria-label={`Remove ${cardTitle(card)}`}
                onClick={() => onChange(cards.filter((_, j) => j !== i))}
              >
                Remove
              </button>
            </h3>
            <CardBody card={card} runs={runs} />
          </article>
        ))}
      </div>
    </section>
  );
}
