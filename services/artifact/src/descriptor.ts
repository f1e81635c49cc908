import { artifactConfig, artifactLocationConfig, defineService, s3Config } from '@mast/common';
import { parseStorageRoot } from './domain/artifact-uri.js';
import {
  ARTIFACT_SUBGRAPH,
  artifactCapabilities,
  artifactDependencies,
  artifactSubgraph,
  artifactTypeDefs,
  openArtifactStorage,
  registerArtifacts,
} from './plugin.js';
import { loggedModelArtifactRootsVia, runArtifactRootsVia } from './run-roots.js';

/**
 * The artifact service: MLflow's artifact proxy over the object store (S3-compatible or a local
 * directory), run and logged-model artifact listings and downloads, and the subgraph that adds
 * `artifacts` to `Run` and `LoggedModel`. It owns no tables; it asks tracking for their artifact roots, on the same app in the all-in-one
 * server, over HTTP at `MAST_TRACKING_URL` as its own process.
 */
export const artifactService = defineService({
  name: 'artifact',
  config: [artifactLocationConfig, artifactConfig, s3Config],
  rest: {
    apiPaths: ['/mlflow-artifacts/', '/mlflow/artifacts/', '/mlflow/logged-models/*/artifacts/'],
    paths: ['/get-artifact'],
  },
  subgraph: { name: ARTIFACT_SUBGRAPH, typeDefs: artifactTypeDefs },
  checkConfig(config, report) {
    const check = (variable: string, uri: string) => {
      try {
        return parseStorageRoot(uri);
      } catch (error) {
        report(variable, (error as Error).message);
        return undefined;
      }
    };
    const destination = check('MAST_ARTIFACTS_DESTINATION', config.artifactsDestination);
    for (const root of config.artifactAllowedRoots) check('MAST_ARTIFACT_ALLOWED_ROOTS', root);
    if (
      destination?.kind === 's3' &&
      (config.s3.accessKeyId === undefined || config.s3.secretAccessKey === undefined)
    ) {
      report(
        'AWS_ACCESS_KEY_ID',
        'an s3:// artifacts destination needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (presigned URLs need a key pair)',
      );
    }
  },
  async create({ config, peer }) {
    const storage = await openArtifactStorage(config);
    const tracking =
      peer('tracking') ??
      (config.trackingUrl === undefined ? undefined : { kind: 'http' as const, url: config.trackingUrl });
    const deps = artifactDependencies(
      config,
      storage,
      tracking === undefined
        ? {}
        : { runs: runArtifactRootsVia(tracking), loggedModels: loggedModelArtifactRootsVia(tracking) },
    );
    return {
      registerRest: (app) => registerArtifacts(app, deps),
      subgraph: artifactSubgraph(deps),
      readinessChecks: [() => storage.ping()],
      closers: [{ name: 'artifact storage', close: () => storage.close() }],
      capabilities: artifactCapabilities(deps),
      warnings:
        tracking === undefined
          ? [
              'MAST_TRACKING_URL is not set: /api/2.0/mlflow/artifacts/list, /get-artifact and the logged-model artifact routes are not served',
            ]
          : [],
    };
  },
});
