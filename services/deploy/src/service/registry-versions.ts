import { MlflowError, type PeerLink, peerRest } from '@mast/common';
import type { ModelVersionLookup } from './deploy.js';

/**
 * Models and versions through the registry's REST API (`registered-models/get`, `model-versions/get`): on the same app in the
 * all-in-one server, over HTTP at `MAST_REGISTRY_URL` as its own process.
 */
export function modelVersionsVia(link: PeerLink, timeoutMs?: number): ModelVersionLookup {
  const registry = peerRest('registry', link, timeoutMs);
  const found = async (path: string, query: Record<string, string>, what: string): Promise<boolean> => {
    const { status } = await registry.request({ path, query });
    if (status === 200) return true;
    if (status === 404 || status === 400) return false;
    throw new MlflowError(
      'TEMPORARILY_UNAVAILABLE',
      `The registry service could not look up ${what} (HTTP ${status}); retry later.`,
    );
  };
  return {
    modelExists: (name) =>
      found('/api/2.0/mlflow/registered-models/get', { name }, `registered model ${name}`),
    exists: (name, version) =>
      found('/api/2.0/mlflow/model-versions/get', { name, version }, `model version ${name}/${version}`),
  };
}
