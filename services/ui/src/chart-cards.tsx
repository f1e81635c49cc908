import { type FormEvent, useMemo, useState } from 'react';
import { BoxPlot } from './box-plot';
import { CompareTable, compareRows } from './compare-table';
import { ContourPlot } from './contour-plot';
import { paramImportance } from './domain/run-stats';
import { ImageGrid } from './image-grid';
import { ParallelCoordinates } from './parallel-coordinates';
import { type Brushes, buildAxis, type PlottedRun } from './run-axes';
import { ScatterPlot } from './scatter-plot';

/** A charted run with what the cards beside the line charts plot: its params and latest metrics. */
export interface CardRun extends PlottedRun {
  color: string;
}

/**
 * A card of MLflow's chart view besides the line charts, as the URL writes it (`?cards=`, comma
 * separated): `bar:m:loss`, `scatter:p:lr:m:loss`, `parallel` (the keys that differ), `diff`,
 * `box:m:loss:p:optimizer` (the value, then the param grouping it; none: `box:m:loss`),
 * `contour:p:lr:p:batch:m:loss` (x, y, then the metric z), `importance:m:loss` and `images` (at the
 * last step; `images:<step>` at another).
 */
export type Card =
  | { type: 'bar'; key: string }
  | { type: 'scatter'; x: string; y: string }
  | { type: 'parallel' }
  | { type: 'diff' }
  | { type: 'box'; key: string; group?: string }
  | { type: 'contour'; x: string; y: string; z: string }
  | { type: 'importance'; key: string }
  | { type: 'images'; step?: number };

const CARD_TYPES: Record<Card['type'], string> = {
  bar: 'Bar chart',
  scatter: 'Scatter plot',
  parallel: 'Parallel coordinates',
  diff: 'Difference table',
  box: 'Box plot',
  contour: 'Contour plot',
  importance: 'Parameter importance',
  images: 'Image grid',
};

/** Parallel coordinates draw this many axes at most: beyond it the lines are unreadable. */
const MAX_AXES = 8;

/** A card's text in the URL; undefined for text no card writes. Keys with `:` split at the last `:p:`/`:m:`. */
export function parseCard(text: string): Card | undefined {
  if (text === 'parallel' || text === 'diff') return { type: text };
  if (text.startsWith('bar:')) return { type: 'bar', key: text.slice(4) };
  const scatter = /^scatter:([pm]:.+):([pm]:.+)$/.exec(text);
  if (scatter) return { type: 'scatter', x: scatter[1]!, y: scatter[2]! };
  const box = /^box:([pm]:.+):(p:.+)$/.exec(text) ?? /^box:([pm]:.+)$/.exec(text);
  if (box) return { type: 'box', key: box[1]!, group: box[2] };
  const contour = /^contour:([pm]:.+):([pm]:.+):(m:.+)$/.exec(text);
  if (contour) return { type: 'contour', x: contour[1]!, y: contour[2]!, z: contour[3]! };
  if (/^importance:m:./.test(text)) return { type: 'importance', key: text.slice('importance:'.length) };
  const images = /^images(?::(-?\d+))?$/.exec(text);
  if (images) return { type: 'images', step: images[1] === undefined ? undefined : Number(images[1]) };
  return undefined;
}

export function formatCard(card: Card): string {
  switch (card.type) {
    case 'bar':
    case 'importance':
      return `${card.type}:${card.key}`;
    case 'scatter':
      return `scatter:${card.x}:${card.y}`;
    case 'box':
      return `box:${card.key}${card.group ? `:${card.group}` : ''}`;
    case 'contour':
      return `contour:${card.x}:${card.y}:${card.z}`;
    case 'images':
      return card.step === undefined ? 'images' : `images:${card.step}`;
    default:
      return card.type;
  }
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

const signed = (value: number) => `${value > 0 ? '+' : value < 0 ? '−' : ''}${Math.abs(value).toFixed(2)}`;

/**
 * Parameter importance (ui.md §5.3, Mast's addition): each numeric param's Pearson correlation with the
 * metric over the charted runs (`domain/run-stats.ts`), strongest first, as bars of |r| (sign in the
 * value and the colour).
 */
function ImportanceCard({ runs, metricKey }: { runs: readonly CardRun[]; metricKey: string }) {
  const importance = useMemo(() => paramImportance(runs, metricKey), [runs, metricKey]);
  return (
    <ul
      className="bar-chart"
      aria-label={`Parameter importance for ${metricKey.slice(2)}: correlation per param`}
      data-params={importance.length}
    >
      {importance.map(({ key, correlation, runs: count }) => (
        <li key={key} data-param={key.slice(2)} title={`Pearson correlation over ${count} runs`}>
          <span className="bar-label">{key.slice(2)}</span>
          <span className="bar-track">
            <span
              className={`bar ${correlation < 0 ? 'negative' : 'positive'}`}
              style={{ width: `${Math.abs(correlation) * 100}%` }}
            />
          </span>
          <span className="bar-value">{signed(correlation)}</span>
        </li>
      ))}
      {importance.length === 0 ? (
        <li className="muted">No numeric param varies over 3 or more runs with this metric.</li>
      ) : null}
    </ul>
  );
}

function CardBody({
  card,
  runs,
  onChange,
}: {
  card: Card;
  runs: readonly CardRun[];
  onChange(card: Card): void;
}) {
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
    case 'box':
      return <BoxPlot runs={runs} valueKey={card.key} groupKey={card.group} />;
    case 'contour':
      return (
        <ContourPlot runs={runs} x={buildAxis(card.x, runs)} y={buildAxis(card.y, runs)} zKey={card.z} />
      );
    case 'importance':
      return <ImportanceCard runs={runs} metricKey={card.key} />;
    case 'images':
      return <ImageGrid runs={runs} step={card.step} onStep={(step) => onChange({ type: 'images', step })} />;
  }
}

function cardTitle(card: Card): string {
  switch (card.type) {
    case 'bar':
      return `${card.key.slice(2)} (latest)`;
    case 'scatter':
      return `${card.y.slice(2)} against ${card.x.slice(2)}`;
    case 'box':
      return `${card.key.slice(2)}${card.group ? ` by ${card.group.slice(2)}` : ''} (box plot)`;
    case 'contour':
      return `${card.z.slice(2)} over ${card.x.slice(2)} and ${card.y.slice(2)}`;
    case 'importance':
      return `Parameter importance for ${card.key.slice(2)}`;
    default:
      return CARD_TYPES[card.type];
  }
}

/** Which keys a field of the "Add chart" form offers. */
type Choices = 'metrics' | 'params' | 'keys';

/**
 * The keys each card type asks for, by field label: from `choices`, by default the `pick`-th (0: the
 * first) of those starting with `prefer` (`m:` a metric, `p:` a param), else the first.
 */
const CARD_FIELDS: Record<
  Card['type'],
  Array<{ label: string; choices: Choices; prefer?: 'm:' | 'p:'; pick?: number }>
> = {
  bar: [{ label: 'Metric', choices: 'metrics' }],
  scatter: [
    { label: 'X', choices: 'keys' },
    { label: 'Y', choices: 'keys', prefer: 'm:' },
  ],
  parallel: [],
  diff: [],
  box: [
    { label: 'Value', choices: 'keys', prefer: 'm:' },
    { label: 'Group by', choices: 'params' },
  ],
  contour: [
    { label: 'X', choices: 'keys', prefer: 'p:' },
    { label: 'Y', choices: 'keys', prefer: 'p:', pick: 1 },
    { label: 'Z', choices: 'metrics' },
  ],
  importance: [{ label: 'Metric', choices: 'metrics' }],
  images: [],
};

/** The card of `type` with the keys chosen per field label; undefined while a required key is missing. */
function newCard(type: Card['type'], keys: Record<string, string | undefined>): Card | undefined {
  const { Metric: metric, X: x, Y: y, Z: z, Value: value } = keys;
  switch (type) {
    case 'bar':
    case 'importance':
      return metric ? { type, key: metric } : undefined;
    case 'scatter':
      return x && y ? { type, x, y } : undefined;
    case 'box':
      return value ? { type, key: value, group: keys['Group by'] || undefined } : undefined;
    case 'contour':
      return x && y && z ? { type, x, y, z } : undefined;
    default:
      return { type };
  }
}

/** The "Add chart" control: a card type and the keys it plots. */
function AddCard({ keys, onAdd }: { keys: string[]; onAdd(card: Card): void }) {
  const lists: Record<Choices, string[]> = {
    keys,
    metrics: keys.filter((key) => key.startsWith('m:')),
    params: keys.filter((key) => key.startsWith('p:')),
  };
  const [type, setType] = useState<Card['type']>('bar');
  const [picked, setPicked] = useState<Record<string, string>>({});
  const fields = CARD_FIELDS[type].map((field) => {
    const list = lists[field.choices];
    const preferred = field.prefer ? list.filter((key) => key.startsWith(field.prefer!)) : list;
    const value = list.includes(picked[field.label] ?? '')
      ? picked[field.label]
      : (preferred[field.pick ?? 0] ?? preferred[0] ?? list[0]);
    return { ...field, list, value };
  });
  function add(event: FormEvent) {
    event.preventDefault();
    const card = newCard(type, Object.fromEntries(fields.map((field) => [field.label, field.value])));
    if (card) onAdd(card);
  }
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
      {fields.map((field) => (
        <label key={field.label}>
          {field.label}{' '}
          <select
            aria-label={field.label}
            value={field.value ?? ''}
            onChange={(event) => setPicked({ ...picked, [field.label]: event.target.value })}
          >
            {field.label === 'Group by' ? <option value="">(no grouping)</option> : null}
            {field.list.map((key) => (
              <option key={key} value={key}>
                {key.startsWith('p:') ? 'param' : 'metric'} {key.slice(2)}
              </option>
            ))}
          </select>
        </label>
      ))}
      <button type="submit">Add chart</button>
    </form>
  );
}

/**
 * The cards the user added (MLflow's chart types besides line charts, and parameter importance) over
 * the charted runs' params and latest metrics, each removable; `onChange` gets the new list for the URL.
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
            <CardBody
              card={card}
              runs={runs}
              onChange={(next) => onChange(cards.map((other, j) => (j === i ? next : other)))}
            />
          </article>
        ))}
      </div>
    </section>
  );
}
