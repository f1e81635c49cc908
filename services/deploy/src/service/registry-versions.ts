import { MlflowError, type PeerLink, peerRest } from '@mast/common';
import type { ModelVersionLookup } from './deploy.js';

/**
 * Model versions through the registry's REST API (`model-versions/get`): on the same app in the
 * all-in-one server, over HTTP at `MAST_REGISTRY_URL` as its own process.
 */
export function modelVersionsVia(link: PeerLink, timeoutMs?: number): ModelVersionLookup {
  const registry = peerRest('registry', link, timeoutMs);
  return {
    async exists(name, version) {
      const { status } = await registry.request({
        path: '/api/2.0/mlflow/model-versions/get',
        query: { name, version },
      });
      if (status === 200) return true;
      if (status === 404 || status === 400) return false;
      throw new MlflowError(
        'TEMPORARILY_UNAVAILABLE',
        `The registry service could not look up model version ${name}/${version} (HTTP ${status}); retry later.`,
      );
    },
  };
}
