import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import {
  databaseConfig,
  defineService,
  graphqlConfig,
  httpConfig,
  MlflowError,
  reachableHost,
  redisConfig,
  StartupError,
  subscriptionQueueName,
} from '@mast/common';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { type DeployConfig, deployConfig } from './config.js';
import { DEPLOY_SUBGRAPH, deploySubgraphSchema, deployTypeDefs } from './graphql/subgraph.js';
import { BuildCache } from './oci/cache.js';
import { registerDeployRoutes } from './rest/routes.js';
import { DEPLOYMENT_JOBS_QUEUE, DeployService, type ModelVersionLookup } from './service/deploy.js';
import { deployMetrics } from './service/metrics.js';
import { DEPLOY_SUBSCRIBER, REGISTRY_EVENTS_TOPIC, startDeployWorkers } from './service/pipeline.js';
import { modelVersionsVia } from './service/registry-versions.js';
import { deployMigrations } from './store/migrations/index.js';
import type { DeployDatabase } from './store/schema.js';
import { stepsByTargetKind } from './targets/index.js';
import { KubernetesSteps } from './targets/kubernetes.js';
import { LocalServers } from './targets/local.js';

/** Without a registry to ask, policies and manual deploys cannot check their model exists. */
const unreachableRegistry = async (): Promise<boolean> => {
  throw new MlflowError(
    'TEMPORARILY_UNAVAILABLE',
    'MAST_REGISTRY_URL is not set: models cannot be looked up.',
  );
};
const NO_REGISTRY: ModelVersionLookup = { exists: unreachableRegistry, modelExists: unreachableRegistry };

/** The URL this process's server answers on, once it listens (`0.0.0.0`/`::` reached through loopback). */
function ownUrl(app: FastifyInstance | undefined, staticPrefix: string): string | undefined {
  const address = app?.server.address();
  if (!address || typeof address === 'string') return undefined;
  return `http://${reachableHost(address.address)}:${address.port}${staticPrefix}`;
}

/** The cluster's credentials, loaded on first use: a kubeconfig file, else the in-cluster ServiceAccount. */
function clusterCredentials(settings: DeployConfig['deploy']['kubernetes']): () => KubeConfig | undefined {
  let loaded: KubeConfig | undefined;
  return () => {
    if (loaded || (!settings.kubeconfig && !settings.inCluster)) return loaded;
    loaded = new KubeConfig();
    if (settings.kubeconfig) loaded.loadFromFile(settings.kubeconfig);
    else loaded.loadFromCluster();
    return loaded;
  };
}

/** The dockerconfigjson file's text; a missing or unreadable file stops the start with one line. */
async function readRegistryAuth(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new StartupError(
      `MAST_DEPLOY_REGISTRY_AUTH_FILE: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

/**
 * Automated rollout (issue 12): deployment targets, rollout policies and deployments in the `deploy`
 * schema; Mast's REST API `…/mast/deployments/*` and the deploy subgraph. Its workers (unless
 * `MAST_DEPLOY_WORKERS=false`) subscribe to the registry's events as `deploy`, create the deployments
 * policies ask for, and run each through its pipeline: KUBERNETES targets get an image built without a
 * daemon and a server-side-applied Deployment (or KServe InferenceService) watched to LIVE or rolled
 * back; LOCAL targets a model server child process of this process.
 */
export const deployService = defineService({
  name: 'deploy',
  config: [databaseConfig, redisConfig, graphqlConfig, httpConfig, deployConfig],
  migrations: deployMigrations,
  rest: { apiPaths: ['/mast/deployments/'] },
  subgraph: { name: DEPLOY_SUBGRAPH, typeDefs: deployTypeDefs },
  async create({ config, db, peer, queue, logger, metrics }) {
    const registryLink =
      peer('registry') ??
      (config.deploy.registryUrl === undefined
        ? undefined
        : { kind: 'http' as const, url: config.deploy.registryUrl });
    const service = new DeployService({
      db: db as Kysely<DeployDatabase>,
      queues: queue(),
      registry: registryLink === undefined ? NO_REGISTRY : modelVersionsVia(registryLink),
    });
    const log = (message: string, details: Record<string, unknown>) => logger.warn(details, message);
    // The all-in-one server serves tracking itself: LOCAL model servers download from its own URL.
    let app: FastifyInstance | undefined;
    const trackingUri = () => config.deploy.trackingUri ?? ownUrl(app, config.staticPrefix);
    const local = new LocalServers({
      trackingUri,
      dataDir: join(config.deploy.dataDir, 'local'),
      log: (message, details) => logger.info(details, message),
    });
    const kubernetes = new KubernetesSteps({
      kubeConfig: clusterCredentials(config.deploy.kubernetes),
      trackingUri,
      dataDir: join(config.deploy.dataDir, 'builds'),
      baseImages: config.deploy.baseImages,
      registryAuth:
        config.deploy.registryAuthFile === undefined
          ? undefined
          : await readRegistryAuth(config.deploy.registryAuthFile),
      insecureRegistries: config.deploy.insecureRegistries,
      cache: new BuildCache(join(config.deploy.dataDir, 'image-cache')),
      progressDeadlineSeconds: config.deploy.progressDeadlineSeconds,
    });
    const observer = deployMetrics(metrics, service, queue, [
      DEPLOYMENT_JOBS_QUEUE,
      subscriptionQueueName(REGISTRY_EVENTS_TOPIC, DEPLOY_SUBSCRIBER),
    ]);
    const workers = config.deploy.workers
      ? await startDeployWorkers({
          service,
          queues: queue(),
          steps: stepsByTargetKind({ LOCAL: local, KUBERNETES: kubernetes }),
          concurrency: config.deploy.concurrency,
          observer,
          logger,
        })
      : [];
    if (config.deploy.workers) {
      // LOCAL model servers ended with the previous process: serve the LIVE ones again, once this
      // process's own server answers (restore waits for it).
      void service
        .liveDeploymentsOn('LOCAL')
        .then((live) =>
          local.restore(live, async (deploymentId, result) => {
            if ('endpoint' in result) return service.setEndpoint(deploymentId, result.endpoint);
            log('deploy: a LIVE local deployment could not be served again', { deploymentId, ...result });
            await service.transition(
              deploymentId,
              'FAILED',
              `could not be served again after a restart: ${result.error}`,
            );
          }),
        )
        .catch((error: Error) =>
          log('deploy: restoring local model servers failed', { error: error.message }),
        );
    }
    return {
      registerRest: (host) => {
        app = host;
        return registerDeployRoutes(host, service);
      },
      subgraph: deploySubgraphSchema(service),
      closers: [
        { name: 'local model servers', close: () => local.close() },
        {
          name: 'deploy workers',
          close: async () => {
            await Promise.all(workers.map((worker) => worker.close()));
          },
        },
      ],
      warnings:
        registryLink === undefined
          ? ['MAST_REGISTRY_URL is not set: manual deploys cannot check model versions']
          : [],
    };
  },
});
