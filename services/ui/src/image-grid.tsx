import { useEffect, useMemo, useState } from 'react';
import { type GraphQLRequestError, gql } from './api';
import { type ArtifactFile, formatBytes, IMAGE_PREVIEW_BYTES, resolveDownload } from './artifact-browser';
import { ErrorMessage, Loading } from './components';
import { IMAGE_FILE, imageAtStep, imageSteps, type RunImage, runImages } from './domain/logged-images';

/** Runs an image grid shows (MLflow's `NUM_RUNS_TO_SUPPORT_FOR_LOG_IMAGE`). */
export const MAX_IMAGE_RUNS = 10;
/** Directory levels and listings (for all runs together) walked looking for images. */
const MAX_DEPTH = 3;
const MAX_LISTINGS = 60;

/** `log_image`'s directory: listed before any other at its level, so the budget never misses it. */
const LOGGED_IMAGES_DIR = 'images';

/**
 * The image files of each run's artifacts (`Run.artifacts`, one aliased field per directory, one
 * request per directory level): breadth first from the root, `images/` first, at most `MAX_DEPTH`
 * levels below it and `MAX_LISTINGS` directories in all.
 */
async function imageFiles(runIds: readonly string[]): Promise<Map<string, ArtifactFile[]>> {
  const found = new Map<string, ArtifactFile[]>(runIds.map((id) => [id, []]));
  let pending: Array<{ runId: string; path: string | null }> = runIds.map((runId) => ({ runId, path: null }));
  let listed = 0;
  for (let depth = 0; depth <= MAX_DEPTH && pending.length > 0 && listed < MAX_LISTINGS; depth++) {
    const batch = pending
      .sort((a, b) => Number(b.path === LOGGED_IMAGES_DIR) - Number(a.path === LOGGED_IMAGES_DIR))
      .slice(0, MAX_LISTINGS - listed);
    listed += batch.length;
    const variables = batch.map((_, i) => `$r${i}: ID!, $p${i}: String`).join(', ');
    const fields = batch
      .map((_, i) => `l${i}: run(id: $r${i}) { artifacts(path: $p${i}) { path isDir fileSize downloadUrl } }`)
      .join('\n');
    const data = await gql<Record<string, { artifacts: ArtifactFile[] } | null>>(
      `query RunImageFiles(${variables}) {\n${fields}\n}`,
      Object.fromEntries(
        batch.flatMap((item, i) => [
          [`r${i}`, item.runId],
          [`p${i}`, item.path],
        ]),
      ),
    );
    pending = [];
    batch.forEach((item, i) => {
      for (const file of data[`l${i}`]?.artifacts ?? []) {
        if (file.isDir) pending.push({ runId: item.runId, path: file.path });
        else if (IMAGE_FILE.test(file.path)) found.get(item.runId)!.push(file);
      }
    });
  }
  return found;
}

function GridImage({ image, label }: { image: RunImage<ArtifactFile>; label: string }) {
  const shown = image.thumbnail ?? image.file;
  const [open, setOpen] = useState((shown.fileSize ?? 0) <= IMAGE_PREVIEW_BYTES);
  if (!shown.downloadUrl || !image.file.downloadUrl) return <span className="muted">no download</span>;
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)}>
        Show ({formatBytes(shown.fileSize)})
      </button>
    );
  return (
    <a href={resolveDownload(image.file.downloadUrl)} target="_blank" rel="noreferrer">
      <img className="grid-image" src={resolveDownload(shown.downloadUrl)} alt={label} loading="lazy" />
    </a>
  );
}

/**
 * MLflow's image grid card: the images logged in the artifacts of the first `MAX_IMAGE_RUNS` runs
 * (`domain/logged-images.ts`: `log_image`'s keyed and stepped files, and any other image file as its
 * own key), a row per run and a column per key, each cell the image at the slider's step (the last
 * logged at or before it). `step` is the card's (the URL's; undefined: the last step); the slider
 * reports a new one through `onStep`. Images over 1 MB without a thumbnail wait for a click.
 */
export function ImageGrid({
  runs,
  step,
  onStep,
}: {
  runs: ReadonlyArray<{ id: string; name: string; color: string }>;
  step: number | undefined;
  onStep(step: number | undefined): void;
}) {
  const shownRuns = runs.slice(0, MAX_IMAGE_RUNS);
  const runIds = shownRuns.map((run) => run.id).join(',');
  const [state, setState] = useState<{ files?: Map<string, ArtifactFile[]>; error?: GraphQLRequestError }>();
  useEffect(() => {
    let current = true;
    setState(undefined);
    imageFiles(runIds === '' ? [] : runIds.split(',')).then(
      (files) => current && setState({ files }),
      (error: GraphQLRequestError) => current && setState({ error }),
    );
    return () => {
      current = false;
    };
  }, [runIds]);
  const images = useMemo(
    () => new Map([...(state?.files ?? [])].map(([runId, files]) => [runId, runImages(files)])),
    [state?.files],
  );
  const keys = useMemo(
    () => [...new Set([...images.values()].flatMap((byKey) => [...byKey.keys()]))].sort(),
    [images],
  );
  const steps = useMemo(
    () => imageSteps([...images.values()].flatMap((byKey) => [...byKey.values()].flat())),
    [images],
  );
  if (state?.error) return <ErrorMessage error={state.error} />;
  if (!state?.files) return <Loading what="images" />;
  if (keys.length === 0)
    return <p className="muted">No image logged by the first {shownRuns.length} runs.</p>;
  // The slider moves over the logged steps; a step between them shows the one before.
  const index = step === undefined ? steps.length - 1 : steps.findLastIndex((s) => s <= step);
  const shownStep = steps[Math.max(0, index)];
  return (
    <div className="image-grid" data-keys={keys.length} data-steps={steps.length}>
      {steps.length > 1 ? (
        <label className="toolbar">
          Step{' '}
          <input
            aria-label="Step"
            type="range"
            min={0}
            max={steps.length - 1}
            value={Math.max(0, index)}
            onChange={(event) => {
              const chosen = Number(event.target.value);
              onStep(chosen === steps.length - 1 ? undefined : steps[chosen]);
            }}
          />{' '}
          <output>{shownStep}</output>
        </label>
      ) : null}
      <div className="image-grid-scroll">
        <table className="table compare">
          <caption>
            Images{shownStep === undefined ? '' : ` at step ${shownStep}`} of the first {shownRuns.length}{' '}
            runs
          </caption>
          <thead>
            <tr>
              <th scope="col">Run</th>
              {keys.map((key) => (
                <th key={key} scope="col">
                  {key}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shownRuns.map((run) => (
              <tr key={run.id}>
                <th scope="row">
                  <span className="swatch" style={{ background: run.color }} /> {run.name}
                </th>
                {keys.map((key) => {
                  const image = imageAtStep(images.get(run.id)?.get(key) ?? [], shownStep);
                  return (
                    <td key={key} data-image-key={key} data-step={image?.step}>
                      {image ? (
                        <GridImage
                          key={image.file.path}
                          image={image}
                          label={`${key} of ${run.name}${image.step === undefined ? '' : ` at step ${image.step}`}`}
                        />
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
