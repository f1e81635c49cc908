import { useEffect, useMemo, useRef } from 'react';
import { bandOf, type ContourPoint, canGrid, gridContour, viridis } from './domain/contour';
import { finite } from './domain/run-stats';
import { cssVariable } from './metric-chart';
import { drawAxisLabels, prepareCanvas, useWidth } from './parallel-coordinates';
import { type Axis, axisValue, type PlottedRun, toFraction } from './run-axes';

const HEIGHT = 360;
const PAD = { left: 70, right: 70, top: 16, bottom: 44 };
/** The grid interpolated for the filled contour, and its colour bands (as Plotly's default 15 levels, fewer). */
const GRID = 48;
const BANDS = 10;

const short = (value: number) => Number.parseFloat(value.toPrecision(4)).toString();

/**
 * A contour plot on one Canvas 2D (MLflow's compare page contour): `x` and `y` (params or metrics;
 * categorical axes place categories evenly) against the metric `zKey`. With enough points
 * (`domain/contour.ts`: four on two x and two y values) the runs are interpolated onto a grid drawn as
 * filled bands of viridis colours; the runs are drawn on top as points coloured by their z, outlined.
 * `data-points` counts the runs drawn, `data-grid` the grid (`48x48`, or `none`), `data-z-min` and
 * `data-z-max` the colour scale's ends.
 */
export function ContourPlot({
  runs,
  x,
  y,
  zKey,
}: {
  runs: readonly PlottedRun[];
  x: Axis;
  y: Axis;
  zKey: string;
}) {
  const box = useRef<HTMLElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const width = useWidth(box);
  const points = useMemo(
    () =>
      runs.flatMap((run): ContourPoint[] => {
        const px = axisValue(x, run.values.get(x.key));
        const py = axisValue(y, run.values.get(y.key));
        const z = finite(run.values.get(zKey));
        return px === undefined || py === undefined || z === undefined ? [] : [{ x: px, y: py, z }];
      }),
    [runs, x, y, zKey],
  );
  const grid = useMemo(() => (canGrid(points) ? gridContour(points, GRID, GRID) : undefined), [points]);
  const zMin = Math.min(...points.map((point) => point.z));
  const zMax = Math.max(...points.map((point) => point.z));
  const names = [y.key.slice(2), x.key.slice(2), zKey.slice(2)];

  useEffect(() => {
    const element = canvas.current;
    if (!element || width === 0) return;
    const context = prepareCanvas(element, width, HEIGHT);
    const text = cssVariable('--text') || '#111';
    const plotWidth = width - PAD.left - PAD.right;
    const plotHeight = HEIGHT - PAD.top - PAD.bottom;
    const px = (value: number) => PAD.left + toFraction(x, value) * plotWidth;
    const py = (value: number) => PAD.top + (1 - toFraction(y, value)) * plotHeight;
    const colour = (z: number) => viridis((bandOf(z, zMin, zMax, BANDS) + 0.5) / BANDS);
    if (grid) {
      const cellWidth = (px(grid.xMax) - px(grid.xMin)) / grid.columns;
      const cellHeight = (py(grid.yMin) - py(grid.yMax)) / grid.rows;
      for (let row = 0; row < grid.rows; row++)
        for (let column = 0; column < grid.columns; column++) {
          context.fillStyle = colour(grid.z[row * grid.columns + column]!);
          // Half a pixel of overlap hides the seams between cells.
          context.fillRect(
            px(grid.xMin) + column * cellWidth,
            py(grid.yMin) - (row + 1) * cellHeight,
            cellWidth + 0.5,
            cellHeight + 0.5,
          );
        }
    }
    context.strokeStyle = text;
    context.lineWidth = 1;
    context.strokeRect(PAD.left, PAD.top, plotWidth, plotHeight);
    for (const point of points) {
      context.beginPath();
      context.arc(px(point.x), py(point.y), 4, 0, 2 * Math.PI);
      context.fillStyle = viridis(zMax > zMin ? (point.z - zMin) / (zMax - zMin) : 0.5);
      context.fill();
      context.strokeStyle = grid ? '#ffffff' : text;
      context.stroke();
    }
    context.fillStyle = text;
    context.font = '12px system-ui, sans-serif';
    const ticks = (axis: Axis) =>
      axis.kind === 'numeric'
        ? [0, 0.5, 1].map((f) => axis.min + f * (axis.max - axis.min))
        : axis.categories
            .map((_, i) => i)
            .filter((_, i, all) => all.length <= 8 || i % Math.ceil(all.length / 8) === 0);
    drawAxisLabels(
      context,
      x,
      y,
      { left: PAD.left, top: PAD.top, width: plotWidth, height: plotHeight, canvasHeight: HEIGHT },
      ticks,
    );
    // The colour bar: the bands from low (bottom) to high, the z range at its ends.
    const barX = width - PAD.right + 16;
    for (let band = 0; band < BANDS; band++) {
      context.fillStyle = viridis((band + 0.5) / BANDS);
      context.fillRect(barX, PAD.top + plotHeight * (1 - (band + 1) / BANDS), 14, plotHeight / BANDS + 0.5);
    }
    context.fillStyle = text;
    context.textAlign = 'left';
    if (points.length > 0) {
      context.fillText(short(zMax), barX, PAD.top - 4);
      context.fillText(short(zMin), barX, HEIGHT - PAD.bottom + 16);
    }
  }, [points, grid, width, x, y, zMin, zMax]);

  return (
    <figure className="chart" ref={box}>
      <figcaption>
        <strong>
          {names[2]} over {names[1]} and {names[0]}
        </strong>{' '}
        <span className="muted">
          {points.length} runs
          {points.length > 0 ? `, ${names[2]} ${short(zMin)} to ${short(zMax)}` : ''}
          {points.length > 0 && !grid ? ' (too few for a filled contour: points only)' : ''}
        </span>
      </figcaption>
      <canvas
        ref={canvas}
        style={{ width: '100%', height: HEIGHT }}
        role="img"
        aria-label={`Contour plot of ${names[2]} over ${names[1]} and ${names[0]}: ${points.length} runs`}
        data-testid="contour-plot"
        data-points={points.length}
        data-grid={grid ? `${grid.columns}x${grid.rows}` : 'none'}
        data-z-min={points.length > 0 ? zMin : undefined}
        data-z-max={points.length > 0 ? zMax : undefined}
      />
    </figure>
  );
}
