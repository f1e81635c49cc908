/**
 * Images logged in a run's artifacts, for the chart view's image grid. MLflow's `mlflow.log_image(image,
 * key=, step=)` writes `images/<key>%step%<step>%timestamp%<ms>%<uuid>.png`, a smaller
 * `…%<uuid>%compressed.webp` beside it and a `.json` of the same, the key's `/` written `#` (MLflow's UI
 * also accepts `+` for `%`: `ImageReducer.ts`). Older code logs an image as any artifact file
 * (`mlflow.log_image(image, "plots/roc.png")`): such a file is its own key, without a step. Pure.
 */

/** A `log_image` file name's fields. */
export interface LoggedImageName {
  key: string;
  step: number;
  timestamp: number;
  /** The name without the extension and the `compressed` suffix: what pairs an image and its thumbnail. */
  stem: string;
  compressed: boolean;
  extension: string;
}

/** The image files the grid shows (as the artifact browser previews them). */
export const IMAGE_FILE = /\.(png|jpe?g|gif|webp|bmp)$/i;

/** The fields of a `log_image` file name (the last path segment), or undefined for any other name. */
export function parseLoggedImageName(name: string): LoggedImageName | undefined {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const extension = name.slice(dot + 1).toLowerCase();
  const base = name.slice(0, dot);
  const delimiter = ['%', '+'].find((candidate) => base.includes(`${candidate}step${candidate}`));
  if (delimiter === undefined) return undefined;
  const fields = base.split(delimiter);
  // key, 'step', step, 'timestamp', timestamp, uuid[, 'compressed']
  const compressed = fields.length === 7 && fields[6] === 'compressed';
  if (fields.length !== 6 && !compressed) return undefined;
  const [key, stepLabel, step, timestampLabel, timestamp] = fields;
  if (stepLabel !== 'step' || timestampLabel !== 'timestamp') return undefined;
  if (!/^-?\d+$/.test(step!) || !/^\d+$/.test(timestamp!) || key === '') return undefined;
  return {
    key: key!.replaceAll('#', '/'),
    step: Number(step),
    timestamp: Number(timestamp),
    stem: fields.slice(0, 6).join(delimiter),
    compressed,
    extension,
  };
}

/** An image of a run: the full file, its thumbnail when `log_image` wrote one, its step if logged with one. */
export interface RunImage<F> {
  key: string;
  step: number | undefined;
  timestamp: number | undefined;
  file: F;
  thumbnail: F | undefined;
}

/**
 * A run's images by key from its image files (`path` relative to the artifact root; other files are
 * ignored): `log_image` files by their key (the `.png` with its `.webp` thumbnail; a thumbnail alone
 * stands for itself), any other image file as its own key. Each key's images are in step order.
 */
export function runImages<F extends { path: string }>(files: readonly F[]): Map<string, RunImage<F>[]> {
  const logged = new Map<string, { name: LoggedImageName; file?: F; thumbnail?: F }>();
  const images: RunImage<F>[] = [];
  for (const file of files) {
    if (!IMAGE_FILE.test(file.path)) continue;
    const name = parseLoggedImageName(file.path.slice(file.path.lastIndexOf('/') + 1));
    if (!name) {
      images.push({ key: file.path, step: undefined, timestamp: undefined, file, thumbnail: undefined });
      continue;
    }
    const stem = `${file.path.slice(0, file.path.lastIndexOf('/') + 1)}${name.stem}`;
    const entry = logged.get(stem) ?? { name };
    if (name.compressed) entry.thumbnail = file;
    else {
      entry.file = file;
      entry.name = name;
    }
    logged.set(stem, entry);
  }
  for (const { name, file, thumbnail } of logged.values())
    images.push({
      key: name.key,
      step: name.step,
      timestamp: name.timestamp,
      file: (file ?? thumbnail)!,
      thumbnail,
    });
  const byKey = new Map<string, RunImage<F>[]>();
  for (const image of images) byKey.set(image.key, [...(byKey.get(image.key) ?? []), image]);
  for (const list of byKey.values())
    list.sort((a, b) => (a.step ?? 0) - (b.step ?? 0) || (a.timestamp ?? 0) - (b.timestamp ?? 0));
  return byKey;
}

/** The distinct steps of `images`, ascending (images without a step add none). */
export function imageSteps(images: Iterable<{ step: number | undefined }>): number[] {
  const steps = new Set<number>();
  for (const image of images) if (image.step !== undefined) steps.add(image.step);
  return [...steps].sort((a, b) => a - b);
}

/**
 * The image of a key's list (in step order) shown at `step`: the last one logged at or before it (the
 * latest of a step logged twice); an image without a step shows at every step. Undefined before the
 * first, or for no step (`undefined` step: the last image).
 */
export function imageAtStep<I extends { step: number | undefined }>(
  images: readonly I[],
  step: number | undefined,
): I | undefined {
  let shown: I | undefined;
  for (const image of images) {
    if (image.step === undefined || step === undefined || image.step <= step) shown = image;
  }
  return shown;
}
