import {
  OutboxRelay,
  type QueueConnection,
  registerSubgraphEndpoint,
  requireJsonContentType,
  toWireJson,
} from '@mast/common';
import type { FastifyInstance } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { Kysely } from 'kysely';
import { registrySubgraphSchema } from './graphql/subgraph.js';
import { artifactRoutes } from './rest/artifacts.js';
import { registryRoutes } from './rest/routes.js';
import type { LoggedModels } from './service/logged-models.js';
import { RegistryService } from './service/registry.js';
import type { Runs } from './service/runs.js';
import { REGISTRY_SCHEMA } from './store/migrations/index.js';
import type { RegistryDatabase } from './store/schema.js';
import { DEFAULT_WEBHOOKS_SETTINGS } from './webhooks/config.js';
import { WebhookService } from './webhooks/service.js';

export interface RegistryDependencies {
  db: Kysely<RegistryDatabase>;
  clock?: () => number;
  loggedModels?: LoggedModels;
  runs?: Runs;
  sourceRegex?: RegExp;
  /** The subgraph's largest page. */
  maxPageSize?: number;
  /** Told about best-effort side effects that failed. */
  onWarning?: (message: string, error: unknown) => void;
  /** Webhooks (GraphQL reads them); default: a service on `db` with default settings, no workers. */
  webhooks?: WebhookService;
}

/** The registry service, built once per process by its composition root. */
export interface Registry {
  service: RegistryService;
  /** Registers MLflow's model-registry REST API (and Mast's history/resolve routes) in its own scope. */
  registerRest(app: FastifyInstance): Promise<void>;
  /** Serves the subgraph at `/graphql` (tests; the standalone process gets it from the descriptor). */
  registerSubgraph(app: FastifyInstance): void;
  subgraph: GraphQLSchema;
  /** Wakes the outbox relay (set once the relay is started). */
  onEventsCommitted?: () => void;
}

/** Builds the registry service layer once; REST and GraphQL both call it. */
export function createRegistry(deps: RegistryDependencies): Registry {
  const registry: Registry = {
    service: undefined as unknown as RegistryService,
    async registerRest(app) {
      await app.register(async (scope) => {
        scope.addHook('onRequest', requireJsonContentType);
        scope.setReplySerializer(toWireJson);
        registryRoutes(scope, registry.service);
        artifactRoutes(scope, registry.service);
      });
    },
    registerSubgraph(app) {
      registerSubgraphEndpoint(app, registry.subgraph);
    },
    subgraph: undefined as unknown as GraphQLSchema,
  };
  registry.service = new RegistryService({
    db: deps.db,
    clock: deps.clock,
    loggedModels: deps.loggedModels,
    runs: deps.runs,
    sourceRegex: deps.sourceRegex,
    onWarning: deps.onWarning,
    onEventsCommitted: () => registry.onEventsCommitted?.(),
  });
  registry.subgraph = registrySubgraphSchema(registry.service, {
    maxPageSize: deps.maxPageSize ?? 1000,
    webhooks:
      deps.webhooks ??
      new WebhookService({ db: deps.db as unknown as Kysely<unknown>, settings: DEFAULT_WEBHOOKS_SETTINGS }),
  });
  return registry;
}

/**
 * The relay publishing `registry.outbox` to the `registry-events` queue, started, and woken by every
 * committed registry change. Its `stop()` is a closer (before the queue and the database close).
 */
export function startRegistryRelay(
  registry: Registry,
  db: Kysely<RegistryDatabase>,
  queues: QueueConnection,
  onError?: (error: Error) => void,
): OutboxRelay<RegistryDatabase> {
  const relay = new OutboxRelay({ db, schema: REGISTRY_SCHEMA, queues, onError });
  registry.onEventsCommitted = () => relay.wake();
  relay.start();
  return relay;
}

export { REGISTRY_SUBGRAPH, registryTypeDefs } from './graphql/subgraph.js';
