import { useEffect, useMemo, useRef, useState } from 'react';
import { cssVariable } from './metric-chart';
import { drawAxisLabels, prepareCanvas, useWidth } from './parallel-coordinates';
import { type Axis, axisValue, type PlottedRun, toFraction } from './run-axes';

const HEIGHT = 360;
const PAD = { left: 70, right: 20, top: 16, bottom: 44 };

/**
 * A scatter plot of the compared runs on one Canvas 2D: one point per run with a value on both axes
 * (categorical axes place categories evenly), the runs inside the parallel coordinates' brushes in the
 * accent colour, the others faint. Hovering a point names its run. `data-points` counts the points drawn.
 */
export function ScatterPlot({
  runs,
  x,
  y,
  highlighted,
}: {
  runs: readonly PlottedRun[];
  x: Axis;
  y: Axis;
  highlighted: ReadonlySet<string>;
}) {
  const box = useRef<HTMLElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const width = useWidth(box);
  const [hovered, setHovered] = useState<PlottedRun>();
  const plotWidth = width - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;

  const points = useMemo(
    () =>
      runs.flatMap((run) => {
        const vx = axisValue(x, run.values.get(x.key));
        const vy = axisValue(y, run.values.get(y.key));
        if (vx === undefined || vy === undefined) return [];
        return [
          {
            run,
            px: PAD.left + toFraction(x, vx) * plotWidth,
            py: PAD.top + (1 - toFraction(y, vy)) * plotHeight,
          },
        ];
      }),
    [runs, x, y, plotWidth, plotHeight],
  );

  useEffect(() => {
    const element = canvas.current;
    if (!element || width === 0) return;
    const context = prepareCanvas(element, width, HEIGHT);
    const text = cssVariable('--text') || '#111';
    const faint = cssVariable('--border') || '#ccc';
    const accent = cssVariable('--accent') || '#1d4ed8';
    context.strokeStyle = text;
    context.strokeRect(PAD.left, PAD.top, plotWidth, plotHeight);
    for (const inside of [false, true]) {
      context.fillStyle = inside ? accent : faint;
      context.beginPath();
      for (const point of points) {
        if (highlighted.has(point.run.id) !== inside) continue;
        context.moveTo(point.px + 3, point.py);
        context.arc(point.px, point.py, 3, 0, 2 * Math.PI);
      }
      context.fill();
    }
    context.fillStyle = text;
    context.font = '12px system-ui, sans-serif';
    const ticks = (axis: Axis) =>
      axis.kind === 'numeric'
        ? [0, 0.25, 0.5, 0.75, 1].map((f) => axis.min + f * (axis.max - axis.min))
        : axis.categories.length <= 12
          ? axis.categories.map((_, i) => i)
          : [0, axis.categories.length - 1];
    drawAxisLabels(
      context,
      x,
      y,
      { left: PAD.left, top: PAD.top, width: plotWidth, height: plotHeight, canvasHeight: HEIGHT },
      ticks,
    );
  }, [points, highlighted, width, x, y, plotWidth, plotHeight]);

  const onPointerMove = (event: React.PointerEvent<HTMLCanvasElement>) => {
    const rect = event.currentTarget.getBoundingClientRect();
    const px = event.clientX - rect.left;
    const py = event.clientY - rect.top;
    let nearest: (typeof points)[number] | undefined;
    let best = 64; // within 8 px
    for (const point of points) {
      const distance = (point.px - px) ** 2 + (point.py - py) ** 2;
      if (distance < best) {
        best = distance;
        nearest = point;
      }
    }
    setHovered(nearest?.run);
  };

  return (
    <figure className="chart" ref={box}>
      <figcaption>
        <strong>
          {y.key.slice(2)} against {x.key.slice(2)}
        </strong>{' '}
        <output className="muted">{hovered ? hovered.name : `${points.length} runs`}</output>
      </figcaption>
      <canvas
        ref={canvas}
        style={{ width: '100%', height: HEIGHT }}
        role="img"
        aria-label={`Scatter plot of ${points.length} runs: ${y.key.slice(2)} against ${x.key.slice(2)}`}
        data-testid="scatter-plot"
        data-points={points.length}
        onPointerMove={onPointerMove}
        onPointerLeave={() => setHovered(undefined)}
      />
    </figure>
  );
}
