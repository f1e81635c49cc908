import { MlflowError, type PeerLink, peerRest } from '@mast/common';

/** What the registry needs of a tracking LoggedModel (MLflow 3): where its files are, its run. */
export interface LoggedModelInfo {
  modelId: string;
  artifactUri: string;
  sourceRunId?: string;
  tags?: Array<{ key: string; value: string }>;
}

/** The logged-model tag listing the registry versions made from it (MLflow's `mlflow.modelVersions`). */
export const MODEL_VERSIONS_TAG = 'mlflow.modelVersions';

/** `json.dumps` of the version list as Python writes it (`[{"name": "x", "version": "1"}]`). */
export function modelVersionsTagValue(versions: Array<{ name: string; version: string }>): string {
  return `[${versions
    .map((v) => `{"name": ${JSON.stringify(v.name)}, "version": ${JSON.stringify(v.version)}}`)
    .join(', ')}]`;
}

/** The versions already listed in a logged model's `mlflow.modelVersions` tag, plus this one. */
export function withModelVersion(
  tags: Array<{ key: string; value: string }> | undefined,
  name: string,
  version: string,
): string {
  let versions: Array<{ name: string; version: string }> = [];
  const existing = tags?.find((tag) => tag.key === MODEL_VERSIONS_TAG)?.value;
  if (existing) {
    try {
      const parsed = JSON.parse(existing);
      if (Array.isArray(parsed)) versions = parsed;
    } catch {
      // an unreadable tag is replaced
    }
  }
  if (!versions.some((v) => v.name === name && String(v.version) === version))
    versions.push({ name, version });
  return modelVersionsTagValue(versions);
}

/** Looks up logged models in the tracking service, which owns them (the registry never reads its tables). */
export interface LoggedModels {
  /** The logged model, or undefined when tracking does not know it. */
  get(modelId: string): Promise<LoggedModelInfo | undefined>;
  /** Sets tags on a logged model (MLflow's `set_logged_model_tags`). */
  setTags(modelId: string, tags: Array<{ key: string; value: string }>): Promise<void>;
}

function fromResponse(status: number, text: string, modelId: string): LoggedModelInfo | undefined {
  if (status === 404) return undefined;
  let body: {
    model?: {
      info?: { artifact_uri?: string; source_run_id?: string; tags?: Array<{ key: string; value: string }> };
    };
    message?: string;
  } = {};
  try {
    body = JSON.parse(text);
  } catch {
    // reported below
  }
  if (status === 200 && typeof body.model?.info?.artifact_uri === 'string') {
    return {
      modelId,
      artifactUri: body.model.info.artifact_uri,
      sourceRunId: body.model.info.source_run_id,
      tags: body.model.info.tags,
    };
  }
  if (status === 400) return undefined;
  throw new MlflowError(
    'TEMPORARILY_UNAVAILABLE',
    `The tracking service could not look up logged model '${modelId}' (HTTP ${status}).`,
  );
}

const PATH = '/api/2.0/mlflow/logged-models/';

/** Logged models through tracking's REST API: on the same app (all-in-one) or over HTTP (cluster). */
export function loggedModelsVia(link: PeerLink, timeoutMs?: number): LoggedModels {
  const tracking = peerRest('tracking', link, timeoutMs);
  return {
    async get(modelId) {
      const { status, text } = await tracking.request({ path: `${PATH}${encodeURIComponent(modelId)}` });
      return fromResponse(status, text, modelId);
    },
    async setTags(modelId, tags) {
      const { status } = await tracking.request({
        method: 'PATCH',
        path: `${PATH}${encodeURIComponent(modelId)}/tags`,
        body: { tags },
      });
      if (status !== 200) {
        throw new MlflowError(
          'TEMPORARILY_UNAVAILABLE',
          `Tagging logged model '${modelId}' failed (HTTP ${status}).`,
        );
      }
    },
  };
}
