import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { cssVariable } from './metric-chart';
import {
  type Axis,
  axisLabel,
  axisValue,
  type Brushes,
  fromFraction,
  type PlottedRun,
  runsInside,
  toFraction,
} from './run-axes';

const HEIGHT = 360;
const PAD = { top: 44, bottom: 28, side: 60 };
/** How far from an axis (px) a drag still starts a brush on it. */
const GRAB = 18;

const fractionToY = (fraction: number) => HEIGHT - PAD.bottom - fraction * (HEIGHT - PAD.top - PAD.bottom);
const yToFraction = (y: number) =>
  Math.min(1, Math.max(0, (HEIGHT - PAD.bottom - y) / (HEIGHT - PAD.top - PAD.bottom)));

/** The canvas width an element offers, followed as it resizes. */
export function useWidth(element: React.RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    const box = element.current;
    if (!box) return;
    setWidth(box.clientWidth);
    const observer = new ResizeObserver(() => setWidth(box.clientWidth));
    observer.observe(box);
    return () => observer.disconnect();
  }, [element]);
  return width;
}

/** A canvas sized for the screen's pixel ratio, its context scaled to CSS pixels. */
export function prepareCanvas(
  canvas: HTMLCanvasElement,
  width: number,
  height: number,
): CanvasRenderingContext2D {
  const ratio = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
  if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
  const context = canvas.getContext('2d')!;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  return context;
}

/** Where a two-axis plot's rectangle sits on its canvas, in CSS pixels. */
export interface PlotFrame {
  left: number;
  top: number;
  width: number;
  height: number;
  /** The canvas's whole height: the x axis's title sits at its bottom. */
  canvasHeight: number;
}

/**
 * Draws the tick labels of `x` (below the plot) and `y` (left of it) at the values `ticks` picks for
 * each, and each axis's title (its key without the `p:`/`m:` prefix; y's rotated), in the context's
 * current fill style and font.
 */
export function drawAxisLabels(
  context: CanvasRenderingContext2D,
  x: Axis,
  y: Axis,
  frame: PlotFrame,
  ticks: (axis: Axis) => number[],
): void {
  context.textAlign = 'center';
  for (const tick of ticks(x))
    context.fillText(
      axisLabel(x, tick),
      frame.left + toFraction(x, tick) * frame.width,
      frame.top + frame.height + 16,
    );
  context.fillText(x.key.slice(2), frame.left + frame.width / 2, frame.canvasHeight - 6);
  context.textAlign = 'right';
  for (const tick of ticks(y))
    context.fillText(
      axisLabel(y, tick),
      frame.left - 6,
      frame.top + (1 - toFraction(y, tick)) * frame.height + 4,
    );
  context.save();
  context.translate(14, frame.top + frame.height / 2);
  context.rotate(-Math.PI / 2);
  context.textAlign = 'center';
  context.fillText(y.key.slice(2), 0, 0);
  context.restore();
}

/**
 * Parallel coordinates of the compared runs on one Canvas 2D (ui.md §5.3: 1,000 runs, where Plotly's
 * WebGL `parcoords` stops): one polyline per run across the axes, a run missing a value breaks its line
 * there. Dragging along an axis brushes a range; the runs inside every brush are drawn in the accent
 * colour, the others faint. While dragging, the highlighted set is recomputed and redrawn once per
 * animation frame without React; the brushes reach `onBrushesChange` (the URL) when the drag ends, and
 * a click on an axis clears its brush. `data-highlighted` counts the runs drawn highlighted (goal G8).
 */
export function ParallelCoordinates({
  runs,
  axes,
  brushes,
  onBrushesChange,
}: {
  runs: readonly PlottedRun[];
  axes: readonly Axis[];
  brushes: Brushes;
  onBrushesChange(brushes: Brushes): void;
}) {
  const box = useRef<HTMLElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const status = useRef<HTMLOutputElement>(null);
  const width = useWidth(box);
  // The brushes drawn: the URL's, or the ones being dragged.
  const live = useRef<Map<string, readonly [number, number]>>(new Map(brushes));
  const frame = useRef(0);

  const axisX = useCallback(
    (i: number) =>
      axes.length === 1 ? width / 2 : PAD.side + (i * (width - 2 * PAD.side)) / (axes.length - 1),
    [axes.length, width],
  );

  // Each run's y on each axis (NaN where it has no value), computed once per layout.
  const ys = useMemo(() => {
    const table = new Float32Array(runs.length * axes.length);
    runs.forEach((run, r) => {
      axes.forEach((axis, a) => {
        const value = axisValue(axis, run.values.get(axis.key));
        table[r * axes.length + a] = value === undefined ? Number.NaN : fractionToY(toFraction(axis, value));
      });
    });
    return table;
  }, [runs, axes]);

  const draw = useCallback(() => {
    const element = canvas.current;
    if (!element || width === 0) return;
    const context = prepareCanvas(element, width, HEIGHT);
    const inside = runsInside(runs, axes, live.current);
    const text = cssVariable('--text') || '#111';
    const faint = cssVariable('--border') || '#ccc';
    const accent = cssVariable('--accent') || '#1d4ed8';
    const band = cssVariable('--band') || 'rgba(29, 78, 216, 0.2)';
    // Two paths, one stroke each: the faint runs below, the highlighted ones on top.
    for (const highlighted of [false, true]) {
      context.beginPath();
      runs.forEach((run, r) => {
        if (inside.has(run.id) !== highlighted) return;
        let drawing = false;
        for (let a = 0; a < axes.length; a++) {
          const y = ys[r * axes.length + a]!;
          if (Number.isNaN(y)) drawing = false;
          else if (drawing) context.lineTo(axisX(a), y);
          else {
            context.moveTo(axisX(a), y);
            drawing = true;
          }
        }
      });
      context.strokeStyle = highlighted ? accent : faint;
      context.globalAlpha = highlighted ? Math.max(0.15, Math.min(0.9, 40 / Math.max(1, inside.size))) : 0.6;
      context.lineWidth = 1;
      context.stroke();
    }
    context.globalAlpha = 1;
    context.fillStyle = text;
    context.font = '12px system-ui, sans-serif';
    context.textAlign = 'center';
    axes.forEach((axis, a) => {
      const x = axisX(a);
      const brush = live.current.get(axis.key);
      if (brush) {
        const top = fractionToY(Math.min(1, toFraction(axis, brush[1])));
        const bottom = fractionToY(Math.max(0, toFraction(axis, brush[0])));
        context.fillStyle = band;
        context.fillRect(x - 8, top, 16, bottom - top);
        context.fillStyle = text;
      }
      context.strokeStyle = text;
      context.beginPath();
      context.moveTo(x, PAD.top);
      context.lineTo(x, HEIGHT - PAD.bottom);
      context.stroke();
      context.fillText(axis.key.slice(2), x, 16, (width - 2 * PAD.side) / Math.max(1, axes.length - 1));
      const ticks =
        axis.kind === 'numeric'
          ? [axis.min, axis.max]
          : axis.categories.length <= 12
            ? axis.categories.map((_, i) => i)
            : [0, axis.categories.length - 1];
      context.textAlign = 'right';
      for (const tick of ticks)
        context.fillText(axisLabel(axis, tick), x - 4, fractionToY(toFraction(axis, tick)) + 4);
      context.textAlign = 'center';
    });
    element.dataset.highlighted = String(inside.size);
    if (status.current)
      status.current.textContent =
        live.current.size > 0
          ? `${inside.size} of ${runs.length} runs inside the brushes`
          : `${runs.length} runs`;
  }, [runs, axes, ys, width, axisX]);

  useEffect(() => {
    live.current = new Map(brushes);
    draw();
  }, [brushes, draw]);

  const drag = useRef<{ axis: Axis; from: number; startY: number } | undefined>(undefined);
  const pointerY = (event: React.PointerEvent) =>
    event.clientY - event.currentTarget.getBoundingClientRect().top;
  const onPointerDown = (event: React.PointerEvent<HTMLCanvasElement>) => {
    const x = event.clientX - event.currentTarget.getBoundingClientRect().left;
    const index = axes.findIndex((_, a) => Math.abs(axisX(a) - x) <= GRAB);
    if (index < 0) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    const axis = axes[index]!;
    const y = pointerY(event);
    drag.current = { axis, from: fromFraction(axis, yToFraction(y)), startY: y };
  };
  const onPointerMove = (event: React.PointerEvent<HTMLCanvasElement>) => {
    const current = drag.current;
    if (!current) return;
    const to = fromFraction(current.axis, yToFraction(pointerY(event)));
    live.current.set(current.axis.key, [Math.min(current.from, to), Math.max(current.from, to)]);
    if (frame.current === 0)
      frame.current = requestAnimationFrame(() => {
        frame.current = 0;
        draw();
      });
  };
  const onPointerUp = (event: React.PointerEvent<HTMLCanvasElement>) => {
    const current = drag.current;
    if (!current) return;
    drag.current = undefined;
    const next = new Map(live.current);
    // A click (no drag) clears the axis's brush.
    if (Math.abs(pointerY(event) - current.startY) < 3) next.delete(current.axis.key);
    onBrushesChange(next);
  };
  useEffect(() => () => cancelAnimationFrame(frame.current), []);

  return (
    <figure className="chart" ref={box}>
      <figcaption>
        <strong>Parallel coordinates</strong> <output ref={status} className="muted" aria-live="polite" />
      </figcaption>
      <canvas
        ref={canvas}
        style={{ width: '100%', height: HEIGHT, touchAction: 'none', cursor: 'crosshair' }}
        role="img"
        aria-label={`Parallel coordinates of ${runs.length} runs over ${axes.map((a) => a.key.slice(2)).join(', ')}; drag along an axis to brush a range`}
        data-testid="parallel-coordinates"
        data-runs={runs.length}
        data-axes={axes.length}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
      />
    </figure>
  );
}
