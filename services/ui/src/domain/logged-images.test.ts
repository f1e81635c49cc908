import { describe, expect, test } from '@jest/globals';
import { imageAtStep, imageSteps, parseLoggedImageName, runImages } from './logged-images.js';

const UUID = '0f8e7d6c-5b4a-4321-9876-fedcba987654';

describe('logged image names', () => {
  test("parses mlflow.log_image's names: the key's '#' is '/', '%' or '+' between fields", () => {
    expect(parseLoggedImageName(`val#samples%step%12%timestamp%1700000000123%${UUID}.png`)).toEqual({
      key: 'val/samples',
      step: 12,
      timestamp: 1700000000123,
      stem: `val#samples%step%12%timestamp%1700000000123%${UUID}`,
      compressed: false,
      extension: 'png',
    });
    expect(parseLoggedImageName(`digits+step+3+timestamp+5+${UUID}+compressed.webp`)).toMatchObject({
      key: 'digits',
      step: 3,
      compressed: true,
      stem: `digits+step+3+timestamp+5+${UUID}`,
    });
    for (const name of [
      'roc.png',
      `digits%step%x%timestamp%5%${UUID}.png`,
      `digits%stop%1%timestamp%5%${UUID}.png`,
      `%step%1%timestamp%5%${UUID}.png`,
      `digits%step%1%timestamp%5.png`,
      'noextension',
    ])
      expect(parseLoggedImageName(name)).toBeUndefined();
  });

  test('groups files by key in step order, pairing thumbnails, old-style images as their own key', () => {
    const name = (key: string, step: number, suffix = '.png') =>
      `images/${key}%step%${step}%timestamp%${1000 + step}%${UUID.slice(0, -1)}${step}${suffix}`;
    const files = [
      { path: name('digits', 2) },
      { path: name('digits', 2, '%compressed.webp') },
      { path: name('digits', 2, '.json') },
      { path: name('digits', 0) },
      { path: name('loss#map', 1, '%compressed.webp') },
      { path: 'plots/roc.png' },
      { path: 'notes.txt' },
    ];
    const images = runImages(files);
    expect([...images.keys()].sort()).toEqual(['digits', 'loss/map', 'plots/roc.png']);
    expect(images.get('digits')!.map((i) => [i.step, i.file.path, i.thumbnail?.path])).toEqual([
      [0, name('digits', 0), undefined],
      [2, name('digits', 2), name('digits', 2, '%compressed.webp')],
    ]);
    // A thumbnail without its full image stands for it.
    expect(images.get('loss/map')![0]!.file.path).toBe(name('loss#map', 1, '%compressed.webp'));
    expect(images.get('plots/roc.png')![0]).toMatchObject({
      step: undefined,
      file: { path: 'plots/roc.png' },
    });
    expect(imageSteps([...images.values()].flat())).toEqual([0, 1, 2]);
  });

  test('at a step: the last image logged at or before it; step-less images at every step', () => {
    const list = [{ step: 0 }, { step: 5 }, { step: 5, second: true }, { step: 9 }];
    expect(imageAtStep(list, 4)).toBe(list[0]);
    expect(imageAtStep(list, 5)).toBe(list[2]);
    expect(imageAtStep(list, 100)).toBe(list[3]);
    expect(imageAtStep(list, -1)).toBeUndefined();
    expect(imageAtStep(list, undefined)).toBe(list[3]);
    const old = [{ step: undefined }];
    expect(imageAtStep(old, 3)).toBe(old[0]);
  });
});
