import {
  createHttpApp,
  createQueueConnection,
  type Database,
  migrateToLatest,
  type OutboxRelay,
  type QueueConnection,
} from '@mast/common';
import { type Backend, HttpClient, openTestDatabase } from '@mast/test-support';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { createRegistry, type Registry, startRegistryRelay } from '../src/plugin.js';
import { registryMigrations } from '../src/store/migrations/index.js';
import type { RegistryDatabase } from '../src/store/schema.js';
import {
  DEFAULT_WEBHOOKS_SETTINGS,
  startWebhooks,
  WebhookService,
  type Webhooks,
  type WebhooksSettings,
} from '../src/webhooks/index.js';

export const TEST_SECRET_KEY = Buffer.alloc(32, 42);

export interface WebhooksServer {
  client: HttpClient;
  app: FastifyInstance;
  database: Database<RegistryDatabase>;
  registry: Registry;
  webhooks: Webhooks;
  queues: QueueConnection;
  relay: OutboxRelay<RegistryDatabase>;
  /** What the webhook service logged (message and details, as JSON). */
  logs: string[];
  close(): Promise<void>;
}

/**
 * The registry with webhooks as the descriptor wires them: relay, webhook dispatcher and delivery worker
 * on one queue connection (in-process unless given), REST on a loopback port.
 */
export async function startWebhooksServer(
  backend: Backend,
  options: {
    settings?: Partial<WebhooksSettings>;
    queues?: QueueConnection;
    database?: Database<RegistryDatabase>;
  } = {},
): Promise<WebhooksServer> {
  const database = options.database ?? (await openTestDatabase<RegistryDatabase>(backend));
  await migrateToLatest(database.db as Kysely<unknown>, registryMigrations);
  const logs: string[] = [];
  const service = new WebhookService({
    log: (message, details) => logs.push(JSON.stringify({ message, ...details })),
    db: database.db as unknown as Kysely<unknown>,
    settings: {
      ...DEFAULT_WEBHOOKS_SETTINGS,
      secretKey: TEST_SECRET_KEY,
      allowPrivateNetworks: true,
      retryDelayMs: 50,
      timeoutMs: 2000,
      ...options.settings,
    },
  });
  const registry = createRegistry({ db: database.db, webhooks: service });
  const queues = options.queues ?? createQueueConnection();
  const webhooks = await startWebhooks({ service, queues });
  const relay = startRegistryRelay(registry, database.db, queues);
  const { app } = createHttpApp({
    logLevel: 'silent',
    bodyLimit: 32 * 1024 * 1024,
    readinessChecks: [database.ping],
  });
  await registry.registerRest(app);
  await webhooks.registerRest(app);
  registry.registerSubgraph(app);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    client: new HttpClient(address),
    app,
    database,
    registry,
    webhooks,
    queues,
    relay,
    logs,
    close: async () => {
      await app.close();
      await webhooks.closer.close();
      await relay.stop();
      if (!options.queues) await queues.close();
      if (!options.database) await database.close();
    },
  };
}
