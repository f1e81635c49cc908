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
import type { LoggedModels } from '../src/service/logged-models.js';
import type { Runs } from '../src/service/runs.js';
import { registryMigrations } from '../src/store/migrations/index.js';
import type { RegistryDatabase } from '../src/store/schema.js';

export interface RegistryServer {
  client: HttpClient;
  app: FastifyInstance;
  database: Database<RegistryDatabase>;
  registry: Registry;
  queues: QueueConnection;
  relay: OutboxRelay<RegistryDatabase>;
  close(): Promise<void>;
}

/**
 * The registry service on a fresh database of the given backend, listening on a loopback port, with
 * its outbox relay publishing to an in-process queue (the `mast server` default without REDIS_URL).
 */
export async function startRegistryServer(
  backend: Backend,
  options: {
    loggedModels?: LoggedModels;
    runs?: Runs;
    sourceRegex?: RegExp;
    queues?: QueueConnection;
  } = {},
): Promise<RegistryServer> {
  const database = await openTestDatabase<RegistryDatabase>(backend);
  await migrateToLatest(database.db as Kysely<unknown>, registryMigrations);
  const registry = createRegistry({
    db: database.db,
    loggedModels: options.loggedModels,
    runs: options.runs,
    sourceRegex: options.sourceRegex,
  });
  const queues = options.queues ?? createQueueConnection();
  const relay = startRegistryRelay(registry, database.db, queues);
  const { app } = createHttpApp({
    logLevel: 'silent',
    bodyLimit: 32 * 1024 * 1024,
    readinessChecks: [database.ping],
  });
  await registry.registerRest(app);
  registry.registerSubgraph(app);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    client: new HttpClient(address),
    app,
    database,
    registry,
    queues,
    relay,
    close: async () => {
      await app.close();
      await relay.stop();
      if (!options.queues) await queues.close();
      await database.close();
    },
  };
}
