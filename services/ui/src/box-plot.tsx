import { useEffect, useMemo, useRef } from 'react';
import { boxGroups } from './domain/run-stats';
import { cssVariable } from './metric-chart';
import { prepareCanvas, useWidth } from './parallel-coordinates';
import { type Axis, axisLabel, type PlottedRun, toFraction } from './run-axes';

const HEIGHT = 300;
const PAD = { left: 70, right: 20, top: 16, bottom: 44 };

const short = (value: number) => Number.parseFloat(value.toPrecision(4)).toString();
/** A group's label: its value, or 'all runs' when the runs are not grouped. */
const groupLabel = (group: string) => (group === '' ? 'all runs' : group);

/**
 * A box plot on one Canvas 2D (MLflow's compare page box plot, back in the chart view as ui.md §5.3
 * asks, #6348): the numeric values of `valueKey` over `runs`, one box per value of `groupKey` (one box
 * of every run without it): quartiles, median, Tukey whiskers and outliers (`domain/run-stats.ts`).
 * The numbers drawn are also a table under the plot (the canvas's text alternative; tests read it).
 */
export function BoxPlot({
  runs,
  valueKey,
  groupKey,
}: {
  runs: readonly PlottedRun[];
  valueKey: string;
  groupKey?: string;
}) {
  const box = useRef<HTMLElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const width = useWidth(box);
  const groups = useMemo(() => boxGroups(runs, valueKey, groupKey), [runs, valueKey, groupKey]);
  const name = valueKey.slice(2);
  const by = groupKey ? ` by ${groupKey.slice(2)}` : '';

  useEffect(() => {
    const element = canvas.current;
    if (!element || width === 0 || groups.length === 0) return;
    const context = prepareCanvas(element, width, HEIGHT);
    const text = cssVariable('--text') || '#111';
    const accent = cssVariable('--accent') || '#1d4ed8';
    const plotWidth = width - PAD.left - PAD.right;
    const plotHeight = HEIGHT - PAD.top - PAD.bottom;
    const axis: Axis = {
      key: valueKey,
      kind: 'numeric',
      min: Math.min(...groups.map((g) => g.stats.min)),
      max: Math.max(...groups.map((g) => g.stats.max)),
    };
    const y = (value: number) => PAD.top + (1 - toFraction(axis, value)) * plotHeight;
    const slot = plotWidth / groups.length;
    const half = Math.min(40, slot * 0.3);
    context.strokeStyle = text;
    context.strokeRect(PAD.left, PAD.top, plotWidth, plotHeight);
    context.font = '12px system-ui, sans-serif';
    groups.forEach(({ group, stats }, i) => {
      const x = PAD.left + slot * (i + 0.5);
      context.strokeStyle = accent;
      context.fillStyle = accent;
      context.lineWidth = 1.5;
      context.beginPath();
      // Whiskers, their caps, then the box and the median.
      context.moveTo(x, y(stats.lowWhisker));
      context.lineTo(x, y(stats.q1));
      context.moveTo(x, y(stats.q3));
      context.lineTo(x, y(stats.highWhisker));
      for (const end of [stats.lowWhisker, stats.highWhisker]) {
        context.moveTo(x - half / 2, y(end));
        context.lineTo(x + half / 2, y(end));
      }
      context.stroke();
      context.globalAlpha = 0.2;
      context.fillRect(x - half, y(stats.q3), 2 * half, y(stats.q1) - y(stats.q3));
      context.globalAlpha = 1;
      context.strokeRect(x - half, y(stats.q3), 2 * half, y(stats.q1) - y(stats.q3));
      context.lineWidth = 3;
      context.beginPath();
      context.moveTo(x - half, y(stats.median));
      context.lineTo(x + half, y(stats.median));
      context.stroke();
      context.lineWidth = 1;
      context.beginPath();
      for (const outlier of stats.outliers) {
        context.moveTo(x + 3, y(outlier));
        context.arc(x, y(outlier), 3, 0, 2 * Math.PI);
      }
      context.stroke();
      context.fillStyle = text;
      context.textAlign = 'center';
      context.fillText(groupLabel(group), x, HEIGHT - PAD.bottom + 16, slot - 4);
    });
    context.fillStyle = text;
    context.textAlign = 'center';
    if (groupKey) context.fillText(groupKey.slice(2), PAD.left + plotWidth / 2, HEIGHT - 6);
    context.textAlign = 'right';
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      const value = axis.min + f * (axis.max - axis.min);
      context.fillText(axisLabel(axis, value), PAD.left - 6, y(value) + 4);
    }
    context.save();
    context.translate(14, PAD.top + plotHeight / 2);
    context.rotate(-Math.PI / 2);
    context.textAlign = 'center';
    context.fillText(name, 0, 0);
    context.restore();
  }, [groups, width, valueKey, groupKey, name]);

  if (groups.length === 0) return <p className="muted">No run has a number for {name}.</p>;
  return (
    <figure className="chart" ref={box}>
      <canvas
        ref={canvas}
        style={{ width: '100%', height: HEIGHT }}
        role="img"
        aria-label={`Box plot of ${name}${by}: ${groups.length} boxes`}
        data-testid="box-plot"
        data-boxes={groups.length}
      />
      <table className="table compare box-stats">
        <caption>
          {name}
          {by}: quartiles per group
        </caption>
        <thead>
          <tr>
            {[
              groupKey ? groupKey.slice(2) : 'group',
              'runs',
              'min',
              'Q1',
              'median',
              'Q3',
              'max',
              'outliers',
            ].map((label) => (
              <th key={label} scope="col">
                {label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {groups.map(({ group, stats }) => (
            <tr key={group} data-group={group}>
              <th scope="row">{groupLabel(group)}</th>
              <td>{stats.count}</td>
              <td>{short(stats.min)}</td>
              <td>{short(stats.q1)}</td>
              <td data-median={stats.median}>{short(stats.median)}</td>
              <td>{short(stats.q3)}</td>
              <td>{short(stats.max)}</td>
              <td>{stats.outliers.length}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
