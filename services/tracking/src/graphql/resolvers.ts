import {
  compareInt64,
  DoubleScalar,
  type Int64,
  LongScalar,
  MlflowError,
  withErrorCodes,
} from '@mast/common';
import { experimentNotFound, runNotFound } from '../domain/errors.js';
import { parseRunOrderBy } from '../domain/order-by.js';
import { parseRunFilter } from '../domain/search-filter.js';
import { DEFAULT_EXPERIMENT_ID, type TagInput, type TrackingServices } from '../service/index.js';
import {
  type Bucket,
  decodeExperimentCursor,
  type ExperimentOrderField,
  type ExperimentQuery,
  encodeExperimentCursor,
  type GraphStore,
} from '../store/graph-store.js';
import { decodeRunCursor, encodeRunCursor } from '../store/run-store.js';
import type { GraphContext } from './context.js';
import type { ExperimentOrder, QueryRunsArgs, Resolvers } from './generated/types.js';
import type { Loaders } from './loaders.js';
import {
  type ExperimentModel,
  experimentFromRecord,
  experimentFromRow,
  type MetricPointModel,
  type RunComparisonModel,
  type RunConnectionModel,
  type RunModel,
  runFromRecord,
} from './models.js';

/** The arguments of a page of runs, with their defaults applied. */
type RunPageArgs = Required<Pick<QueryRunsArgs, 'experimentIds' | 'first' | 'viewType'>> &
  Pick<QueryRunsArgs, 'filter' | 'orderBy' | 'after'>;

export interface GraphLimits {
  /** Largest `first` of a connection. */
  maxPageSize: number;
  /** Largest `maxPoints` of a downsampled series. */
  maxPoints: number;
  /** Most runs and metrics in one comparison. */
  compareRuns: number;
  compareMetrics: number;
}

export const DEFAULT_GRAPH_LIMITS: GraphLimits = {
  maxPageSize: 1000,
  maxPoints: 10_000,
  compareRuns: 100,
  compareMetrics: 20,
};

export interface GraphServices extends TrackingServices {
  limits: GraphLimits;
  /** The request's loaders (created on first use, one set per context object). */
  loaders(context: GraphContext): Loaders;
  /** Drops the request's loaders after a write, so what the mutation returns is read afresh. */
  resetLoaders(context: GraphContext): void;
}

const NOTE_TAG = 'mlflow.note.content';

/** The most metric keys `Run.metricStats` takes at once (a runs table's columns). */
const MAX_STATS_KEYS = 1000;

const EXPERIMENT_ORDER: Record<NonNullable<ExperimentOrder['field']>, ExperimentOrderField> = {
  NAME: 'name',
  CREATION_TIME: 'creation_time',
  LAST_UPDATE_TIME: 'last_update_time',
  ID: 'experiment_id',
};

export function requireRange(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw MlflowError.invalidParameter(`'${name}' must be between ${min} and ${max}; got ${value}.`);
  }
}

export function byKeys<T extends { key: string }>(
  items: T[],
  keys: readonly string[] | null | undefined,
): T[] {
  if (!keys) return items;
  const wanted = new Set(keys);
  return items.filter((item) => wanted.has(item.key));
}

function experimentSortValue(experiment: ExperimentModel, field: ExperimentOrderField): string | number {
  switch (field) {
    case 'name':
      return experiment.name;
    case 'creation_time':
      return experiment.creationTime;
    case 'last_update_time':
      return experiment.lastUpdateTime;
    case 'experiment_id':
      return Number(experiment.id);
  }
}

/** GraphQL key-value inputs as the services take them, named by their argument path in errors. */
function keyValues(
  items: ReadonlyArray<{ key: string; value: string }> | null | undefined,
  path: string,
): TagInput[] {
  return (items ?? []).map((item, i) => ({ key: item.key, value: item.value, path: `${path}[${i}]` }));
}

/** The points a chart draws from buckets: each bucket's min, max and last point, in order, once each. */
export function pointsOf(buckets: Bucket[]): MetricPointModel[] {
  const points: MetricPointModel[] = [];
  for (const bucket of buckets) {
    const candidates = [bucket.min, bucket.max, bucket.last].filter((p): p is MetricPointModel => p !== null);
    candidates.sort((a, b) => compareInt64(a.step, b.step) || compareInt64(a.timestamp, b.timestamp));
    for (const point of candidates) {
      const previous = points.at(-1);
      const same =
        previous &&
        previous.step === point.step &&
        previous.timestamp === point.timestamp &&
        Object.is(previous.value, point.value);
      if (!same) points.push(point);
    }
  }
  return points;
}

/** The tracking subgraph's resolvers: thin, the work is in the stores and the loaders. */
export function createResolvers(services: GraphServices): Resolvers<GraphContext> {
  const { experiments, runs, graph, limits } = services;

  async function loadExperiment(context: GraphContext, id: string): Promise<ExperimentModel> {
    const experiment = await services.loaders(context).experiment.load(id);
    if (!experiment) throw experimentNotFound(id);
    return experiment;
  }

  async function loadRun(context: GraphContext, id: string): Promise<RunModel> {
    const run = await services.loaders(context).run.load(id);
    if (!run) throw runNotFound(id);
    return run;
  }

  /** After a write: fresh loaders, then the changed experiment. */
  async function reloadExperiment(context: GraphContext, id: string): Promise<ExperimentModel> {
    services.resetLoaders(context);
    return loadExperiment(context, id);
  }

  async function reloadRun(context: GraphContext, id: string): Promise<RunModel> {
    services.resetLoaders(context);
    return loadRun(context, id);
  }

  /**
   * A page of runs (`Query.runs`, `Experiment.runs`): MLflow's search with keyset cursors (the last
   * run's sort key values), so runs added between pages neither shift nor repeat the next page.
   */
  async function runPage(context: GraphContext, args: RunPageArgs): Promise<RunConnectionModel> {
    requireRange('first', args.first, 1, limits.maxPageSize);
    const orderBy = parseRunOrderBy(args.orderBy ?? undefined);
    const page = await runs.search({
      experimentIds: args.experimentIds,
      filter: parseRunFilter(args.filter ?? undefined),
      orderBy,
      viewType: args.viewType,
      maxResults: args.first + 1,
      offset: 0,
      after: args.after ? decodeRunCursor(orderBy, args.after) : undefined,
    });
    const loaders = services.loaders(context);
    const shown = page.slice(0, args.first);
    return {
      items: shown.map(({ run }) => loaders.primeRun(run)),
      cursors: shown.map(({ position }) => encodeRunCursor(orderBy, position)),
      hasNextPage: page.length > args.first,
    };
  }

  const resolvers: Resolvers<GraphContext> = {
    Long: LongScalar,
    Double: DoubleScalar,

    Query: {
      async experiments(_parent, args, context) {
        requireRange('first', args.first, 1, limits.maxPageSize);
        const orderBy = EXPERIMENT_ORDER[args.orderBy?.field ?? 'CREATION_TIME'];
        const ascending = (args.orderBy?.direction ?? 'DESC') === 'ASC';
        const query: ExperimentQuery = {
          viewType: args.viewType,
          nameContains: args.nameContains ?? undefined,
          nameLike: args.nameLike ?? undefined,
          folder: args.folder ?? undefined,
        };
        const rows = await graph.experimentPage({
          ...query,
          orderBy,
          ascending,
          after: args.after ? decodeExperimentCursor(args.after, orderBy) : undefined,
          limit: args.first + 1,
        });
        const loaders = services.loaders(context);
        const items = rows.slice(0, args.first).map((row) => {
          const experiment = experimentFromRow(row);
          loaders.experiment.prime(experiment.id, experiment);
          return experiment;
        });
        return {
          items,
          cursors: items.map((e) => encodeExperimentCursor(experimentSortValue(e, orderBy), Number(e.id))),
          hasNextPage: rows.length > args.first,
          totalCount: () => graph.experimentCount(query),
        };
      },

      experimentFolders: (_parent, args) => graph.experimentFolders(args.parent ?? '', args.viewType),

      async experiment(_parent, args, context) {
        const { id, name } = args;
        if ((id === undefined || id === null) === (name === undefined || name === null)) {
          throw MlflowError.invalidParameter("Give exactly one of 'id' and 'name'.");
        }
        if (id !== undefined && id !== null) return loadExperiment(context, id);
        const found = await experiments.getByName(name!);
        const experiment = experimentFromRecord(found);
        const loaders = services.loaders(context);
        loaders.experiment.prime(experiment.id, experiment);
        loaders.experimentTags.prime(experiment.id, found.tags);
        return experiment;
      },

      runs: (_parent, args, context) => runPage(context, args),

      run: (_parent, args, context) => loadRun(context, args.id),

      async experimentKeys(_parent, args, context) {
        const experiment = await loadExperiment(context, args.experimentId);
        return services.experimentKeys.keys(Number(experiment.id));
      },

      async compareRuns(_parent, args, context) {
        const runIds = [...new Set(args.runIds)];
        const keys = [...new Set(args.metricKeys)];
        requireRange('runIds (count)', runIds.length, 1, limits.compareRuns);
        requireRange('metricKeys (count)', keys.length, 1, limits.compareMetrics);
        requireRange('maxPoints', args.maxPoints, 1, limits.maxPoints);
        const found = await services.loaders(context).run.loadMany(runIds);
        const missing = runIds.filter((_, i) => !found[i] || found[i] instanceof Error);
        if (missing.length > 0) {
          throw MlflowError.notFound(`Runs with ids ${missing.map((id) => `'${id}'`).join(', ')} not found`);
        }
        const series = await graph.downsample(
          runIds.flatMap((runId) => keys.map((key) => ({ runId, key }))),
          { maxPoints: args.maxPoints, shared: true },
        );
        return alignSeries(series);
      },
    },

    Mutation: {
      async createExperiment(_parent, { input }, context) {
        const id = await experiments.create({
          name: input.name,
          artifactLocation: input.artifactLocation ?? undefined,
          tags: keyValues(input.tags, 'input.tags'),
        });
        return reloadExperiment(context, id);
      },

      async renameExperiment(_parent, { id, newName }, context) {
        await experiments.rename(id, newName);
        return reloadExperiment(context, id);
      },

      async deleteExperiment(_parent, { id }, context) {
        await experiments.delete(id);
        return reloadExperiment(context, id);
      },

      async restoreExperiment(_parent, { id }, context) {
        await experiments.restore(id);
        return reloadExperiment(context, id);
      },

      async setExperimentTag(_parent, { experimentId, key, value }, context) {
        await experiments.setTag(experimentId, key, value);
        return reloadExperiment(context, experimentId);
      },

      async deleteExperimentTag(_parent, { experimentId, key }, context) {
        await experiments.deleteTag(experimentId, key);
        return reloadExperiment(context, experimentId);
      },

      async createRun(_parent, { input }, context) {
        const run = await runs.create({
          experimentId: input.experimentId ?? DEFAULT_EXPERIMENT_ID,
          userId: input.userId ?? undefined,
          runName: input.name ?? undefined,
          startTime: input.startTime ?? undefined,
          tags: keyValues(input.tags, 'input.tags'),
        });
        services.resetLoaders(context);
        return runFromRecord(run.info);
      },

      async updateRun(_parent, { input }, context) {
        const info = await runs.update(input.id, {
          status: input.status ?? undefined,
          endTime: input.endTime ?? undefined,
          runName: input.name ?? undefined,
        });
        services.resetLoaders(context);
        return runFromRecord(info);
      },

      async deleteRun(_parent, { id }, context) {
        await runs.delete(id);
        return reloadRun(context, id);
      },

      async restoreRun(_parent, { id }, context) {
        await runs.restore(id);
        return reloadRun(context, id);
      },

      async setRunTag(_parent, { runId, key, value }, context) {
        await runs.setTag(runId, { key, value });
        return reloadRun(context, runId);
      },

      async deleteRunTag(_parent, { runId, key }, context) {
        await runs.deleteTag(runId, key);
        return reloadRun(context, runId);
      },

      async logBatch(_parent, { input }, context) {
        await runs.logBatch(
          input.runId,
          {
            metrics: (input.metrics ?? []).map((metric, i) => ({
              key: metric.key,
              value: metric.value,
              timestamp: metric.timestamp ?? undefined,
              step: metric.step ?? undefined,
              path: `input.metrics[${i}]`,
            })),
            params: keyValues(input.params, 'input.params'),
            tags: keyValues(input.tags, 'input.tags'),
          },
          'input.runId',
        );
        return reloadRun(context, input.runId);
      },
    },

    Experiment: {
      __resolveReference: (reference, context) => services.loaders(context).experiment.load(reference.id),
      async description(experiment, _args, context) {
        const tags = await services.loaders(context).experimentTags.load(experiment.id);
        return tags.find((tag) => tag.key === NOTE_TAG)?.value ?? null;
      },
      tags: async (experiment, args, context) =>
        byKeys(await services.loaders(context).experimentTags.load(experiment.id), args.keys),
      runCount: (experiment, args, context) =>
        services.loaders(context).runCount(args.viewType).load(experiment.id),
      runs: (experiment, args, context) => runPage(context, { ...args, experimentIds: [experiment.id] }),
    },

    ExperimentConnection: {
      edges: (connection) => connection.items.map((node, i) => ({ node, cursor: connection.cursors[i]! })),
      nodes: (connection) => connection.items,
      pageInfo: (connection) => ({
        hasNextPage: connection.hasNextPage,
        endCursor: connection.cursors.at(-1) ?? null,
      }),
      totalCount: (connection) => connection.totalCount?.() ?? connection.items.length,
    },

    Run: {
      __resolveReference: (reference, context) => services.loaders(context).run.load(reference.id),
      experiment: (run, _args, context) => loadExperiment(context, run.experimentId),
      latestMetrics: async (run, args, context) =>
        byKeys(await services.loaders(context).latestMetrics.load(run.id), args.keys),
      params: async (run, args, context) =>
        byKeys(await services.loaders(context).params.load(run.id), args.keys),
      tags: async (run, args, context) =>
        byKeys(await services.loaders(context).tags.load(run.id), args.keys),
      datasetInputs: (run, _args, context) => services.loaders(context).datasetInputs.load(run.id),
      metricHistory(run, args, context) {
        requireRange('maxPoints', args.maxPoints, 1, limits.maxPoints);
        const startStep = args.startStep ?? undefined;
        const endStep = args.endStep ?? undefined;
        if (startStep !== undefined && endStep !== undefined && startStep > endStep) {
          throw MlflowError.invalidParameter(`'startStep' (${startStep}) is after 'endStep' (${endStep}).`);
        }
        return services
          .loaders(context)
          .metricHistory({ key: args.key, maxPoints: args.maxPoints, startStep, endStep })
          .load(run.id);
      },
      metricStats(run, args, context) {
        const keys = [...new Set(args.keys)].sort();
        requireRange('keys (count)', keys.length, 1, MAX_STATS_KEYS);
        return services.loaders(context).metricStats(keys).load(run.id);
      },
    },

    RunConnection: {
      edges: (connection) => connection.items.map((node, i) => ({ node, cursor: connection.cursors[i]! })),
      nodes: (connection) => connection.items,
      pageInfo: (connection) => ({
        hasNextPage: connection.hasNextPage,
        endCursor: connection.cursors.at(-1) ?? null,
      }),
    },

    MetricSeries: {
      points: (series) => pointsOf(series.buckets),
    },

    ComparedSeries: {
      run: (series, _args, context) => loadRun(context, series.runId),
    },
  };
  return withErrorCodes(resolvers);
}

/** Lines series up on the buckets any of them has points in (their bucket edges are shared). */
function alignSeries(series: Awaited<ReturnType<GraphStore['downsample']>>): RunComparisonModel {
  const ranges = new Map<Int64, Int64>();
  for (const s of series) for (const b of s.buckets) ranges.set(b.startStep, b.endStep);
  const starts = [...ranges.keys()].sort(compareInt64);
  const index = new Map(starts.map((start, i) => [start, i]));
  return {
    buckets: starts.map((startStep) => ({ startStep, endStep: ranges.get(startStep)! })),
    series: series.map((s) => {
      const count = new Array<number>(starts.length).fill(0);
      const min = new Array<number | null>(starts.length).fill(null);
      const max = new Array<number | null>(starts.length).fill(null);
      const last = new Array<number | null>(starts.length).fill(null);
      for (const b of s.buckets) {
        const i = index.get(b.startStep)!;
        count[i] = b.count;
        min[i] = b.min?.value ?? null;
        max[i] = b.max?.value ?? null;
        last[i] = b.last.value;
      }
      return { runId: s.runId, key: s.key, count, min, max, last };
    }),
  };
}
