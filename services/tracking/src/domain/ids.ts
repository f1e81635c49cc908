import { randomUUID } from 'node:crypto';

/** Run ids are uuid4 hex: 32 lowercase characters (lowercase matters for `run_id IN` filters). */
export function newRunId(): string {
  return randomUUID().replaceAll('-', '');
}

/** Logged-model ids: `m-` and 32 hex characters. */
export function newLoggedModelId(): string {
  return `m-${newRunId()}`;
}

/** Experiment ids are integers written as strings; anything else names no experiment (undefined). */
export function parseExperimentId(id: string): number | undefined {
  return /^\d{1,18}$/.test(id) ? Number(id) : undefined;
}

/** `<root>/<child>` the way MLflow appends to a URI path (`mlflow-artifacts:/` + 1 → `mlflow-artifacts:/1`). */
export function childUri(root: string, child: string): string {
  return `${root.replace(/\/+$/, '')}/${child}`;
}
