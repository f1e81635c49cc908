import { useUrlState } from './url-state';

/** MLflow's own tags (`mlflow.runName`, `mlflow.user`, …), hidden by default as MLflow's UI hides them. */
const MLFLOW_TAG_PREFIX = 'mlflow.';

/**
 * Whether a page shows MLflow's own tags: the URL's `internal=1`, the same switch on every page that
 * lists tags (run, logged model, compare versions). `visible` filters a tag list by it; `toggle` is its
 * checkbox, labelled `label`.
 */
export function useMlflowTags() {
  const url = useUrlState();
  const shown = url.get('internal') === '1';
  return {
    visible: <T extends { key: string }>(tags: readonly T[]): T[] =>
      tags.filter((tag) => shown || !tag.key.startsWith(MLFLOW_TAG_PREFIX)),
    toggle: (label: string) => (
      <label>
        <input
          type="checkbox"
          checked={shown}
          onChange={(event) => url.set({ internal: event.target.checked ? '1' : undefined })}
        />{' '}
        {label}
      </label>
    ),
  };
}
