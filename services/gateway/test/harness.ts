import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from '@jest/globals';
import { createHttpApp, type Database, loadConfig, type MastConfig } from '@mast/common';
import { type Backend, HttpClient, openTestDatabase } from '@mast/test-support';
import {
  createTracking,
  prepareTrackingDatabase,
  TRACKING_SUBGRAPH,
  type TrackingDatabase,
  trackingTypeDefs,
} from '@mast/tracking';
import type { FastifyInstance } from 'fastify';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import type { Kysely, KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs } from 'kysely';
import { type AllInOne, type AllInOneConfig, buildAllInOne } from '../src/all-in-one.js';
import { registerGraphQL } from '../src/graphql/server.js';
import { inProcessGateway } from '../src/graphql/supergraph.js';
import { loadAllInOneConfig } from '../src/services.js';
import { createPostgresDatabase } from './processes.js';

/** Counts the SQL statements a Kysely instance executes (test-only, via a plugin). */
export class StatementCounter implements KyselyPlugin {
  count = 0;
  transformQuery(args: PluginTransformQueryArgs) {
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs) {
    this.count += 1;
    return args.result;
  }
}

export interface GraphQLResponse<T = any> {
  status: number;
  headers: Headers;
  body: { data?: T; errors?: Array<{ message: string; extensions?: Record<string, any>; path?: unknown[] }> };
  text: string;
}

/** A client for `/graphql` (POST by default; `get` sends the operation in the query string). */
export class GraphQLClient {
  constructor(readonly http: HttpClient) {}

  async post<T = any>(
    query: string,
    variables?: Record<string, unknown>,
    headers: Record<string, string> = {},
  ): Promise<GraphQLResponse<T>> {
    return this.http.request('POST', '/graphql', { query, variables }, headers) as Promise<
      GraphQLResponse<T>
    >;
  }

  async get<T = any>(params: Record<string, unknown>, headers: Record<string, string> = {}) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined) search.set(key, typeof value === 'string' ? value : JSON.stringify(value));
    }
    return this.http.request('GET', `/graphql?${search}`, undefined, headers) as Promise<GraphQLResponse<T>>;
  }

  /** Runs an operation that must succeed; returns its data. */
  async data<T = any>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const response = await this.post<T>(query, variables);
    expect(response.body.errors).toBeUndefined();
    expect(response.status).toBe(200);
    return response.body.data as T;
  }

  /** Runs an operation that must fail; returns its first error. */
  async error(query: string, variables?: Record<string, unknown>) {
    const response = await this.post(query, variables);
    expect(response.body.errors?.length).toBeGreaterThan(0);
    return { ...response.body.errors![0]!, status: response.status, data: response.body.data };
  }
}

/** An extra subgraph for a test (e.g. one that extends `Run`), executed in-process. */
export interface ExtraSubgraph {
  name: string;
  typeDefs: DocumentNode;
  schema: GraphQLSchema;
}

export interface InProcessServer {
  app: FastifyInstance;
  http: HttpClient;
  graphql: GraphQLClient;
  database: Database<TrackingDatabase>;
  /** Statements the tracking subgraph ran (the REST routes use the uncounted pool). */
  statements: StatementCounter;
  close(): Promise<void>;
}

/**
 * The all-in-one wiring on a fresh test database: tracking REST and the gateway at `/graphql` with the
 * tracking subgraph (and any extra ones) executed in-process. The subgraph's database handle counts
 * its statements.
 */
export async function startInProcess(
  backend: Backend,
  options: {
    env?: Record<string, string>;
    extra?: ExtraSubgraph[];
    /** Single-subgraph operations skip the planner (the default), or not. */
    shortcut?: boolean;
    /** Share another server's database (not closed by this one). */
    database?: Database<TrackingDatabase>;
  } = {},
): Promise<InProcessServer> {
  const database = options.database ?? (await openTestDatabase<TrackingDatabase>(backend));
  const config: MastConfig = loadConfig({ MAST_LOG_LEVEL: 'silent', ...options.env });
  const deps = { db: database.db, defaultArtifactRoot: config.defaultArtifactRoot };
  await prepareTrackingDatabase(deps);
  const http = createHttpApp({ logLevel: 'silent', bodyLimit: config.bodyLimit });
  await createTracking(deps).registerRest(http.app);
  const statements = new StatementCounter();
  const counted: Kysely<TrackingDatabase> = database.db.withPlugin(statements);
  const gateway = inProcessGateway(
    [
      {
        name: TRACKING_SUBGRAPH,
        typeDefs: trackingTypeDefs(),
        schema: createTracking({
          ...deps,
          db: counted,
          graphLimits: { maxPageSize: config.graphql.maxPageSize },
        }).subgraph,
      },
      ...(options.extra ?? []),
    ],
    { shortcut: options.shortcut },
  );
  await registerGraphQL(http.app, gateway, {
    config: config.graphql,
    metrics: http.metrics,
    logger: http.app.log,
  });
  const address = await http.app.listen({ host: '127.0.0.1', port: 0 });
  const client = new HttpClient(address);
  return {
    app: http.app,
    http: client,
    graphql: new GraphQLClient(client),
    database,
    statements,
    close: async () => {
      await http.app.close();
      if (!options.database) await database.close();
    },
  };
}

export interface AllInOneFixtureOptions {
  /** The start of the temporary directory's name (`mast-routes-`). */
  name: string;
  /** A fresh PostgreSQL database (dropped on close) instead of `memory://`. */
  postgres?: boolean;
  /**
   * Settings over the defaults; a function is called at start, so it may read what the test file's
   * earlier `beforeAll` hooks started (an S3 server, a registry).
   */
  env?: Record<string, string> | (() => Record<string, string>);
}

/** A running `mast server` (all-in-one) on a loopback port. */
export interface AllInOneServer {
  server: AllInOne;
  config: AllInOneConfig;
  /** The address it listens on (`http://127.0.0.1:<port>`), without the static prefix. */
  url: string;
  /** A client of `url` under the static prefix (what MLFLOW_TRACKING_URI names). */
  http: HttpClient;
  graphql: GraphQLClient;
  /**
   * A fresh temporary directory, removed on close: the artifact store (MAST_ARTIFACTS_DESTINATION)
   * unless `env` says otherwise, with the deploy data directory at `deployments/`.
   */
  dir: string;
  /** The backend store URI: `memory://` or the PostgreSQL database's URL. */
  databaseUrl: string;
  /** Closes the server, then drops the database and removes `dir`. */
  close(): Promise<void>;
}

/**
 * Starts the whole platform in one process (`buildAllInOne`: tracking, registry, artifact, deploy and
 * the gateway) with silent logs, on `memory://` or a fresh PostgreSQL database, its artifacts and
 * deployments in a temporary directory, `options.env` over those defaults. What it opened is closed
 * again when start-up fails.
 */
export async function startAllInOne(options: AllInOneFixtureOptions): Promise<AllInOneServer> {
  const dir = mkdtempSync(join(tmpdir(), options.name));
  let database: Awaited<ReturnType<typeof createPostgresDatabase>> | undefined;
  let server: AllInOne | undefined;
  const close = async () => {
    await server?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (options.postgres) database = await createPostgresDatabase();
    const databaseUrl = database?.url ?? 'memory://';
    const config = loadAllInOneConfig({
      MAST_BACKEND_STORE_URI: databaseUrl,
      MAST_ARTIFACTS_DESTINATION: dir,
      MAST_DEPLOY_DATA_DIR: join(dir, 'deployments'),
      MAST_LOG_LEVEL: 'silent',
      ...(typeof options.env === 'function' ? options.env() : options.env),
    });
    server = await buildAllInOne(config);
    const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
    const http = new HttpClient(`${url}${config.staticPrefix}`);
    return { server, config, url, http, graphql: new GraphQLClient(http), dir, databaseUrl, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * `startAllInOne` for the enclosing `describe`: started in a `beforeAll` and closed in an `afterAll`
 * registered where this is called (jest runs hooks in the order they are declared). The returned
 * object is filled in when the server has started: read its fields inside hooks and tests only.
 */
export function useAllInOne(options: AllInOneFixtureOptions): AllInOneServer {
  const fixture = {} as AllInOneServer;
  let started: AllInOneServer | undefined;
  beforeAll(async () => {
    started = await startAllInOne(options);
    Object.assign(fixture, started);
  });
  afterAll(async () => started?.close());
  return fixture;
}
