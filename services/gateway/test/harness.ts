import { expect } from '@jest/globals';
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
import { registerGraphQL } from '../src/graphql/server.js';
import { inProcessGateway } from '../src/graphql/supergraph.js';

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
