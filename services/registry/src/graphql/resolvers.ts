import { decodePageToken, encodePageToken, LongScalar, MlflowError, withErrorCodes } from '@mast/common';
import DataLoader from 'dataloader';
import type { ModelVersionRecord, RegisteredModelRecord } from '../domain/records.js';
import {
  parseModelFilter,
  parseModelOrderBy,
  parseVersionFilter,
  parseVersionOrderBy,
} from '../domain/search.js';
import { parseVersion } from '../domain/validation.js';
import type { RegistryService } from '../service/registry.js';
import type { GraphContext } from './context.js';
import type { Resolvers } from './generated/types.js';

/** Per-request batched lookups. */
export class Loaders {
  readonly models: DataLoader<string, RegisteredModelRecord | null>;
  readonly versions: DataLoader<string, ModelVersionRecord | null>;
  readonly versionsOfRun: DataLoader<string, ModelVersionRecord[]>;

  constructor(registry: RegistryService) {
    this.models = new DataLoader(async (names) => {
      const found = new Map((await registry.getModels([...names])).map((m) => [m.name, m]));
      return names.map((name) => found.get(name) ?? null);
    });
    this.versions = new DataLoader(async (keys) => {
      const parsed = keys.map((key) => JSON.parse(key) as { name: string; version: number });
      const found = new Map(
        (await registry.getVersions(parsed)).map((v) => [
          JSON.stringify({ name: v.name, version: v.version }),
          v,
        ]),
      );
      return keys.map((key) => found.get(key) ?? null);
    });
    this.versionsOfRun = new DataLoader(async (runIds) => {
      const versions = await registry.versionsOfRuns([...runIds]);
      return runIds.map((id) => versions.filter((v) => v.runId === id));
    });
  }
}

function versionKey(name: string, version: string | number): string | undefined {
  const number = Number(version);
  return Number.isSafeInteger(number) ? JSON.stringify({ name, version: number }) : undefined;
}

/** A page as a cursor connection; a cursor is the page token of the offset after its item. */
function connection<T>(nodes: T[], offset: number, hasMore: boolean) {
  const edges = nodes.map((node, i) => ({ cursor: encodePageToken(offset + i + 1), node }));
  return {
    edges,
    nodes,
    pageInfo: { hasNextPage: hasMore, endCursor: edges.length > 0 ? edges[edges.length - 1].cursor : null },
  };
}

function pageSize(first: number | null | undefined, max: number, fallback = 100): number {
  const size = first ?? Math.min(fallback, max);
  if (size < 1 || size > max)
    throw MlflowError.invalidParameter(`first must be between 1 and ${max}, got ${size}`);
  return size;
}

/** The registry subgraph's resolvers: thin, over the registry service (the same commands as REST). */
export function createResolvers(
  registry: RegistryService,
  options: { maxPageSize: number; loaders(context: GraphContext): Loaders },
): Resolvers {
  const resolvers: Resolvers = {
    Long: LongScalar,
    Query: {
      registeredModel: async (_parent, { name }, context) => options.loaders(context).models.load(name),
      async registeredModels(_parent, args) {
        const maxResults = pageSize(args.first, options.maxPageSize);
        const offset = decodePageToken(args.after ?? undefined);
        const { models, hasMore } = await registry.searchModels({
          filter: parseModelFilter(args.filter ?? undefined),
          orderBy: parseModelOrderBy(args.orderBy ?? []),
          maxResults,
          offset,
        });
        return connection(models, offset, hasMore);
      },
      async modelVersion(_parent, { name, version }, context) {
        // A version that is not a number is a bad argument, as over REST (an entity reference just misses).
        const number = parseVersion(String(version));
        return options.loaders(context).versions.load(JSON.stringify({ name, version: number }));
      },
      async modelVersions(_parent, args) {
        const maxResults = pageSize(args.first, options.maxPageSize);
        const offset = decodePageToken(args.after ?? undefined);
        const { versions, hasMore } = await registry.searchVersions({
          filter: parseVersionFilter(args.filter ?? undefined),
          orderBy: parseVersionOrderBy(args.orderBy ?? []),
          maxResults,
          offset,
        });
        return connection(versions, offset, hasMore);
      },
      async resolveModelUri(_parent, { uri }) {
        const resolved = await registry.resolveUri(uri);
        return {
          modelVersion: resolved.version ?? null,
          artifactUri: resolved.artifactUri ?? null,
          modelId: resolved.modelId ?? null,
        };
      },
    },
    Mutation: {
      transitionModelVersionStage: (_parent, args) =>
        registry.transitionStage(args.name, args.version, args.stage, args.archiveExistingVersions ?? false, {
          reason: args.reason ?? undefined,
        }),
      async setRegisteredModelAlias(_parent, { name, alias, version }) {
        await registry.setAlias(name, alias, version);
        return registry.getVersion(name, version);
      },
      async deleteRegisteredModelAlias(_parent, { name, alias }) {
        await registry.deleteAlias(name, alias);
        return true;
      },
      async setRegisteredModelTag(_parent, { name, key, value }) {
        await registry.setModelTag(name, key, value);
        return registry.getModel(name);
      },
      async deleteRegisteredModelTag(_parent, { name, key }) {
        await registry.deleteModelTag(name, key);
        return registry.getModel(name);
      },
      async setModelVersionTag(_parent, { name, version, key, value }) {
        await registry.setVersionTag(name, version, key, value);
        return registry.getVersion(name, version);
      },
      async deleteModelVersionTag(_parent, { name, version, key }) {
        await registry.deleteVersionTag(name, version, key);
        return registry.getVersion(name, version);
      },
    },
    RegisteredModel: {
      __resolveReference: (reference, context) => options.loaders(context).models.load(reference.name),
      description: (model) => model.description || null,
      aliases: (model) => model.aliases.map((a) => ({ alias: a.alias, version: String(a.version) })),
      versions: (model) => registry.listVersions(model.name),
      async history(model, args) {
        const { entries } = await registry.history(model.name, {
          version: args.version ?? undefined,
          maxResults: pageSize(args.first, options.maxPageSize),
          offset: 0,
        });
        return entries;
      },
    },
    ModelVersion: {
      async __resolveReference(reference, context) {
        const key = versionKey(reference.name, reference.version);
        return key === undefined ? null : options.loaders(context).versions.load(key);
      },
      version: (version) => String(version.version),
      description: (version) => version.description || null,
      downloadUri: (version) => version.storageLocation ?? version.source,
      run: (version) => (version.runId ? { id: version.runId } : null),
      async registeredModel(version, _args, context) {
        const model = await options.loaders(context).models.load(version.name);
        if (!model) throw MlflowError.notFound(`Registered Model with name=${version.name} not found`);
        return model;
      },
      async history(version) {
        const { entries } = await registry.history(version.name, {
          version: String(version.version),
          maxResults: options.maxPageSize,
          offset: 0,
        });
        return entries;
      },
    },
    RegistryHistoryEntry: {
      version: (entry) => (entry.version === null ? null : String(entry.version)),
    },
    Run: {
      __resolveReference: (reference) => ({ id: reference.id }),
      modelVersions: (run, _args, context) => options.loaders(context).versionsOfRun.load(run.id),
    },
  };
  return withErrorCodes(resolvers);
}
