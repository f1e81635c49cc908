/**
 * A contour plot's grid from scattered runs: each run a point (x, y) with a value z, interpolated onto a
 * regular grid by inverse distance weighting (power 2) in coordinates scaled to the unit square, so
 * that axes of different units weigh alike. The grid passes through every point exactly (a cell centre
 * on a point takes its z). Pure.
 */

export interface ContourPoint {
  x: number;
  y: number;
  z: number;
}

export interface ContourGrid {
  columns: number;
  rows: number;
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
  /** Row-major values of the cell centres; row 0 is the lowest y, column 0 the lowest x. */
  z: Float64Array;
  zMin: number;
  zMax: number;
}

/** Points a filled contour needs: fewer (or all on one x or one y) are drawn as coloured points only. */
export const MIN_CONTOUR_POINTS = 4;

/** Whether `points` can be gridded: `MIN_CONTOUR_POINTS` or more, spread over two x and two y values. */
export function canGrid(points: readonly ContourPoint[]): boolean {
  return (
    points.length >= MIN_CONTOUR_POINTS &&
    new Set(points.map((point) => point.x)).size >= 2 &&
    new Set(points.map((point) => point.y)).size >= 2
  );
}

/**
 * `points` interpolated onto `columns` × `rows` cells spanning their x and y ranges (see the module
 * comment); throws a RangeError when `canGrid` is false.
 */
export function gridContour(points: readonly ContourPoint[], columns: number, rows: number): ContourGrid {
  if (!canGrid(points)) throw new RangeError(`a contour needs ${MIN_CONTOUR_POINTS} points on two x and y`);
  const xs = points.map((point) => point.x);
  const ys = points.map((point) => point.y);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const yMin = Math.min(...ys);
  const yMax = Math.max(...ys);
  const unit = points.map((point) => ({
    u: (point.x - xMin) / (xMax - xMin),
    v: (point.y - yMin) / (yMax - yMin),
    z: point.z,
  }));
  const z = new Float64Array(columns * rows);
  for (let row = 0; row < rows; row++) {
    const v = (row + 0.5) / rows;
    for (let column = 0; column < columns; column++) {
      const u = (column + 0.5) / columns;
      let weights = 0;
      let sum = 0;
      let exact: number | undefined;
      for (const point of unit) {
        const distance = (point.u - u) ** 2 + (point.v - v) ** 2;
        if (distance < 1e-12) {
          exact = point.z;
          break;
        }
        weights += 1 / distance;
        sum += point.z / distance;
      }
      z[row * columns + column] = exact ?? sum / weights;
    }
  }
  const zs = points.map((point) => point.z);
  return { columns, rows, xMin, xMax, yMin, yMax, z, zMin: Math.min(...zs), zMax: Math.max(...zs) };
}

/**
 * The band (0..`bands`−1) of `z` in [zMin, zMax] split into `bands` equal ranges: a filled contour
 * colours each cell by its band. A flat range is band 0.
 */
export function bandOf(z: number, zMin: number, zMax: number, bands: number): number {
  if (!(zMax > zMin)) return 0;
  return Math.max(0, Math.min(bands - 1, Math.floor(((z - zMin) / (zMax - zMin)) * bands)));
}

/** Viridis (matplotlib's perceptually uniform colour map) at nine stops, low to high. */
const VIRIDIS = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
] as const;

/** The viridis colour at `t` (0..1, clamped) as `rgb(r, g, b)`. */
export function viridis(t: number): string {
  const position = Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const low = Math.floor(position);
  const high = Math.min(VIRIDIS.length - 1, low + 1);
  const mix = (i: number) =>
    Math.round(VIRIDIS[low]![i]! + (position - low) * (VIRIDIS[high]![i]! - VIRIDIS[low]![i]!));
  return `rgb(${mix(0)}, ${mix(1)}, ${mix(2)})`;
}
