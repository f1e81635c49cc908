import { describe, expect, test } from '@jest/globals';
import { bandOf, canGrid, gridContour, viridis } from './contour.js';

describe('contour gridding', () => {
  const corners = [
    { x: 0, y: 0, z: 0 },
    { x: 10, y: 0, z: 1 },
    { x: 0, y: 100, z: 2 },
    { x: 10, y: 100, z: 3 },
  ];

  test('needs four points over two x and two y values', () => {
    expect(canGrid(corners)).toBe(true);
    expect(canGrid(corners.slice(0, 3))).toBe(false);
    expect(canGrid(corners.map((p) => ({ ...p, x: 1 })))).toBe(false);
    expect(() => gridContour(corners.slice(0, 3), 2, 2)).toThrow(RangeError);
  });

  test('inverse distance weighting in unit coordinates: symmetric cells, exact at points, within range', () => {
    const grid = gridContour(corners, 2, 2);
    expect([grid.xMin, grid.xMax, grid.yMin, grid.yMax, grid.zMin, grid.zMax]).toEqual([0, 10, 0, 100, 0, 3]);
    // Each cell centre is closest to its corner; the axes' units do not matter (x spans 10, y 100).
    const [low, right, up, high] = grid.z;
    expect(low).toBeLessThan(right!);
    expect(right).toBeLessThan(up!);
    expect(up).toBeLessThan(high!);
    expect(low! + high!).toBeCloseTo(3, 12);
    // A point on a cell centre gives that cell its value exactly.
    const centred = gridContour([...corners, { x: 2.5, y: 25, z: 9 }], 2, 2);
    expect(centred.z[0]).toBe(9);
    for (const value of gridContour(corners, 40, 30).z) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(3);
    }
  });

  test('bands split the z range evenly; viridis runs from purple to yellow', () => {
    expect([0, 0.99, 1, 2.5, 3].map((z) => bandOf(z, 0, 3, 3))).toEqual([0, 0, 1, 2, 2]);
    expect(bandOf(5, 5, 5, 8)).toBe(0);
    expect(viridis(0)).toBe('rgb(68, 1, 84)');
    expect(viridis(1)).toBe('rgb(253, 231, 37)');
    expect(viridis(2)).toBe(viridis(1));
    expect(viridis(0.0625)).toBe('rgb(70, 23, 103)');
  });
});
