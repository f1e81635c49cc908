import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import {
  ApolloGateway,
  type GraphQLDataSourceProcessOptions,
  LocalGraphQLDataSource,
  RemoteGraphQLDataSource,
} from '@apollo/gateway';
import { type RequestContext, USER_HEADER } from '@mast/common';
import { type DocumentNode, execute, GraphQLError, type GraphQLSchema, parse, validate } from 'graphql';
import { InProcessGateway } from './single-subgraph.js';

type GatewayResponse = Awaited<ReturnType<LocalGraphQLDataSource['process']>>;
type Logger = NonNullable<NonNullable<ConstructorParameters<typeof ApolloGateway>[0]>['logger']>;

/** A subgraph executed in the gateway's process: its SDL (for composition) and executable schema. */
export interface LocalSubgraph {
  name: string;
  typeDefs: DocumentNode;
  schema: GraphQLSchema;
}

/** The supergraph committed to the repo (`npm run supergraph`), the cluster wiring's default. */
export const COMMITTED_SUPERGRAPH = new URL('../../supergraph.graphql', import.meta.url);

export class CompositionError extends Error {
  override name = 'CompositionError';
  constructor(readonly problems: string[]) {
    super(`The subgraphs do not compose:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
  }
}

/** Composes subgraphs into a supergraph SDL with @apollo/composition (Federation 2). */
export function composeSupergraph(
  subgraphs: Array<{ name: string; typeDefs: DocumentNode; url: string }>,
): string {
  const result = composeServices(subgraphs);
  if (result.errors) throw new CompositionError(result.errors.map((error) => error.message));
  return result.supergraphSdl;
}

/**
 * Executes a subgraph schema in-process: the gateway's request context goes straight to the
 * subgraph's resolvers (so their per-request DataLoaders are shared by every fetch of a query plan).
 * Unlike LocalGraphQLDataSource's default, each subgraph operation (a fixed set per query plan) is
 * parsed and validated once, not on every request.
 */
export class InProcessDataSource extends LocalGraphQLDataSource {
  private readonly documents = new Map<string, DocumentNode>();

  override async process(options: GraphQLDataSourceProcessOptions): Promise<GatewayResponse> {
    const { request, context } = options;
    const query = request.query ?? '';
    let document = this.documents.get(query);
    if (!document) {
      const parsed = parse(query);
      const errors = validate(this.schema, parsed);
      // The gateway plans valid operations: what fails here is mostly a literal a subgraph scalar rejects.
      if (errors.length > 0) return { errors: errors.map((error) => withCode(error, validationCode(error))) };
      if (this.documents.size >= 1000) this.documents.clear();
      this.documents.set(query, parsed);
      document = parsed;
    }
    const result = await execute({
      schema: this.schema,
      document,
      variableValues: request.variables,
      operationName: request.operationName,
      contextValue: context,
    });
    // No data at all: the variables did not coerce (a value a subgraph scalar rejects).
    if (result.data === undefined && result.errors) {
      return { errors: result.errors.map((error) => withCode(error, 'BAD_USER_INPUT')) };
    }
    return result as GatewayResponse;
  }
}

/** A literal a subgraph scalar rejected is the client's input; anything else is an invalid document. */
function validationCode(error: GraphQLError): string {
  return error.originalError ? 'BAD_USER_INPUT' : 'GRAPHQL_VALIDATION_FAILED';
}

/** The error with `extensions.code` set, unless it has one. */
function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions.code !== undefined) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}

/**
 * All-in-one wiring: the supergraph composed at start-up, every subgraph executed in-process; single-
 * subgraph operations skip the query planner (`shortcut`, on by default: see InProcessGateway).
 */
export function inProcessGateway(
  subgraphs: LocalSubgraph[],
  options: { logger?: Logger; shortcut?: boolean } = {},
): ApolloGateway {
  const supergraphSdl = composeSupergraph(
    subgraphs.map((s) => ({ name: s.name, typeDefs: s.typeDefs, url: `in-process://${s.name}` })),
  );
  const schemas = new Map(subgraphs.map((s) => [s.name, s.schema]));
  return new InProcessGateway(
    {
      supergraphSdl,
      logger: options.logger,
      buildService: ({ name }) => new InProcessDataSource(schemas.get(name)!),
    },
    schemas,
    options.shortcut ?? true,
  );
}

export interface RemoteGatewayOptions {
  /** Subgraph URLs by name; they override the supergraph's. */
  subgraphUrls: Record<string, string>;
  /** The supergraph SDL: a file's, or composed from the subgraphs (`introspectSupergraph`). */
  supergraphSdl: string;
  logger?: Logger;
}

/**
 * A subgraph over HTTP whose transport failures (refused, reset, timed out) become
 * `TEMPORARILY_UNAVAILABLE` errors naming the service, never its internal URL; it passes the request's
 * user on (`USER_HEADER`).
 */
class NamedRemoteDataSource extends RemoteGraphQLDataSource {
  constructor(
    readonly serviceName: string,
    config: ConstructorParameters<typeof RemoteGraphQLDataSource>[0],
  ) {
    super(config);
  }

  /** The request's user travels to the subgraph, which reads it back with `requestUser`. */
  override willSendRequest({
    request,
    context,
  }: Parameters<NonNullable<RemoteGraphQLDataSource['willSendRequest']>>[0]): void {
    const user = (context as Partial<RequestContext>).user;
    if (user) request.http?.headers.set(USER_HEADER, user);
  }

  override didEncounterError(
    error: Error,
    ...rest: Parameters<RemoteGraphQLDataSource['didEncounterError']> extends [unknown, ...infer R]
      ? R
      : never
  ): void {
    if (!(error instanceof GraphQLError) || error.extensions?.code === undefined) {
      throw new GraphQLError(`The ${this.serviceName} service is unavailable; retry later.`, {
        extensions: { code: 'TEMPORARILY_UNAVAILABLE', serviceName: this.serviceName },
        originalError: error,
      });
    }
    super.didEncounterError(error, ...rest);
  }
}

/** Cluster wiring: subgraphs over HTTP, at the supergraph's URLs unless `subgraphUrls` names others. */
export function remoteGateway(options: RemoteGatewayOptions): ApolloGateway {
  const buildService = ({ name, url }: { name: string; url?: string }) =>
    new NamedRemoteDataSource(name, { url: options.subgraphUrls[name] ?? url });
  return new ApolloGateway({ supergraphSdl: options.supergraphSdl, buildService, logger: options.logger });
}

export function readSupergraph(path: string | URL = COMMITTED_SUPERGRAPH): string {
  return readFileSync(path, 'utf8');
}
