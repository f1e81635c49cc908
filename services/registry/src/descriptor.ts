import { databaseConfig, defineService, failureReason, graphqlConfig, redisConfig } from '@mast/common';
import type { Kysely } from 'kysely';
import { registryConfig } from './config.js';
import { createRegistry, REGISTRY_SUBGRAPH, registryTypeDefs, startRegistryRelay } from './plugin.js';
import { loggedModelsVia } from './service/logged-models.js';
import { runsVia } from './service/runs.js';
import { registryMigrations } from './store/migrations/index.js';
import type { RegistryDatabase } from './store/schema.js';
import { startWebhooks, WebhookService, webhooksConfig } from './webhooks/index.js';

/**
 * The model registry: registered models, versions, tags, aliases and their stage/alias history in the
 * `registry` schema; MLflow's model-registry REST API, Mast's history and `models:/` resolution routes,
 * and the registry subgraph. Every change is appended to `registry.outbox` in its transaction and
 * published to the `registry-events` queue by the relay this service runs (in-process queue without
 * `REDIS_URL`). Logged models (`models:/<model_id>`) are looked up in tracking: on the same app in the
 * all-in-one server, at `MAST_TRACKING_URL` as its own process.
 */
export const registryService = defineService({
  name: 'registry',
  config: [databaseConfig, redisConfig, graphqlConfig, registryConfig, webhooksConfig],
  migrations: registryMigrations,
  rest: {
    apiPaths: [
      '/mlflow/registered-models/',
      '/mlflow/model-versions/',
      '/mast/registered-models/',
      '/mast/models/',
      // MLflow 3's webhook API and Mast's delivery log (services/registry/src/webhooks).
      '/mlflow/webhooks',
      '/mast/webhooks/',
    ],
    // The UI's download of a version's files (redirects to the artifact service's routes).
    paths: ['/model-versions/get-artifact'],
  },
  subgraph: { name: REGISTRY_SUBGRAPH, typeDefs: registryTypeDefs },
  async create({ config, db, peer, queue, logger }) {
    const database = db as Kysely<RegistryDatabase>;
    const tracking =
      peer('tracking') ??
      (config.registry.trackingUrl === undefined
        ? undefined
        : { kind: 'http' as const, url: config.registry.trackingUrl });
    const webhookService = new WebhookService({
      db: database as unknown as Kysely<unknown>,
      settings: config.webhooks,
      log: (message, details) => logger.warn(details, message),
    });
    const registry = createRegistry({
      db: database,
      webhooks: webhookService,
      loggedModels: tracking === undefined ? undefined : loggedModelsVia(tracking),
      runs: tracking === undefined ? undefined : runsVia(tracking),
      sourceRegex:
        config.registry.sourceValidationRegex === undefined
          ? undefined
          : new RegExp(config.registry.sourceValidationRegex),
      maxPageSize: config.graphql.maxPageSize,
      onWarning: (message, error) => logger.warn({ err: error }, message),
    });
    const webhooks = await startWebhooks({ service: webhookService, queues: queue() });
    // One line per failed attempt: the relay retries while Redis or PostgreSQL is down, and a stack
    // trace per retry would bury the log.
    const relay = startRegistryRelay(registry, database, queue(), (error) =>
      logger.warn(`registry outbox relay: publish failed, will retry: ${failureReason(error)}`),
    );
    return {
      registerRest: async (app) => {
        await registry.registerRest(app);
        await webhooks.registerRest(app);
      },
      subgraph: registry.subgraph,
      closers: [{ name: 'registry outbox relay', close: () => relay.stop() }, webhooks.closer],
      warnings:
        tracking === undefined
          ? [
              'MAST_TRACKING_URL is not set: models:/<model_id> sources and URIs are not resolved to artifact locations',
            ]
          : [],
    };
  },
});
