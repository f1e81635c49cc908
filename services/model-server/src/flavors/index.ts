import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseMlModel } from '@mast/common';
import type { Flavor, LoadedModel } from './model.js';
import { onnxFlavor } from './onnx.js';

export type { Flavor, LoadedModel } from './model.js';

/** The flavors Mast runs natively, in order of preference when a model has several. */
const FLAVORS: readonly Flavor[] = [onnxFlavor];

/** The names of the flavors Mast runs (`['onnx']`). */
export const SUPPORTED_FLAVORS: readonly string[] = FLAVORS.map((flavor) => flavor.name);

/** A model none of whose flavors Mast runs natively (a Python fallback may still serve it). */
export class UnsupportedFlavorError extends Error {
  override name = 'UnsupportedFlavorError';
  constructor(
    readonly modelFlavors: string[],
    readonly supportedFlavors: string[] = [...SUPPORTED_FLAVORS],
  ) {
    super(
      `The model's flavors (${modelFlavors.join(', ') || 'none'}) include none that Mast runs natively; ` +
        `Mast runs: ${supportedFlavors.join(', ')}.`,
    );
  }
}

/**
 * Loads an MLflow model directory (its `MLmodel` file, spec 4) with the first flavor Mast runs.
 * Throws MlModelError for a missing or invalid `MLmodel`, UnsupportedFlavorError when no flavor is
 * runnable, and the flavor's own error when its data does not load.
 */
export async function loadModel(modelDir: string): Promise<LoadedModel> {
  const text = await readFile(join(modelDir, 'MLmodel'), 'utf8');
  const mlmodel = parseMlModel(text);
  const flavor = FLAVORS.find((candidate) => candidate.name in mlmodel.flavors);
  if (flavor === undefined) throw new UnsupportedFlavorError(Object.keys(mlmodel.flavors));
  return flavor.load(modelDir, mlmodel);
}
