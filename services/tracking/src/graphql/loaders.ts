import DataLoader from 'dataloader';
import { parseExperimentId } from '../domain/ids.js';
import type { RunRecord } from '../domain/records.js';
import type { TraceRecord } from '../domain/traces.js';
import type { TraceService } from '../service/traces.js';
import { toDatasetInputRecord } from '../store/dataset-inputs.js';
import type { DownsampleStrategy, GraphStore, MetricStatsRow, SeriesRange } from '../store/graph-store.js';
import {
  type DatasetInputModel,
  datasetInputFromRecord,
  type ExperimentModel,
  experimentFromRow,
  type KeyValueModel,
  type MetricModel,
  type MetricSeriesModel,
  type RunModel,
  runFromRecord,
  runFromRow,
} from './models.js';

/** Large enough for any page; bounded so one `IN (...)` list stays far below PostgreSQL's 65535 parameters. */
const MAX_BATCH = 5000;

function group<R extends { run_uuid: string }, T>(
  ids: readonly string[],
  rows: R[],
  map: (row: R) => T,
): T[][] {
  const byId = new Map<string, T[]>(ids.map((id) => [id, []]));
  for (const row of rows) byId.get(row.run_uuid)?.push(map(row));
  return ids.map((id) => byId.get(id)!);
}

export interface MetricHistoryArgs extends SeriesRange {
  key: string;
  maxPoints: number;
}

/**
 * The DataLoaders of one request: every field that resolves per parent (a run's metrics, params, tags,
 * datasets, experiment; an experiment's tags and run count; a run's metric history; a trace by id, its
 * linked runs) is fetched for all parents of the request at once, one SQL statement per field whatever
 * the number of parents.
 */
export class Loaders {
  readonly run: DataLoader<string, RunModel | null>;
  readonly experiment: DataLoader<string, ExperimentModel | null>;
  readonly experimentTags: DataLoader<string, KeyValueModel[]>;
  readonly latestMetrics: DataLoader<string, MetricModel[]>;
  readonly params: DataLoader<string, KeyValueModel[]>;
  readonly tags: DataLoader<string, KeyValueModel[]>;
  readonly datasetInputs: DataLoader<string, DatasetInputModel[]>;
  readonly trace: DataLoader<string, TraceRecord | null>;
  readonly linkedRunIds: DataLoader<string, string[]>;
  private readonly runCounts = new Map<string, DataLoader<string, number>>();
  private readonly histories = new Map<string, DataLoader<string, MetricSeriesModel>>();
  private readonly stats = new Map<string, DataLoader<string, MetricStatsRow[]>>();

  constructor(
    private readonly graph: GraphStore,
    traces: TraceService,
    private readonly strategy: DownsampleStrategy = 'auto',
  ) {
    const options = { maxBatchSize: MAX_BATCH };
    this.run = new DataLoader(async (ids) => {
      const rows = await graph.runsByIds(ids);
      const byId = new Map(rows.map((row) => [row.run_uuid, runFromRow(row)]));
      return ids.map((id) => byId.get(id) ?? null);
    }, options);
    this.experiment = new DataLoader(async (ids) => {
      const numeric = ids.map(parseExperimentId).filter((id): id is number => id !== undefined);
      const rows = await graph.experimentsByIds(numeric);
      const byId = new Map(rows.map((row) => [String(row.experiment_id), experimentFromRow(row)]));
      return ids.map((id) => byId.get(id) ?? null);
    }, options);
    this.experimentTags = new DataLoader(async (ids) => {
      const numeric = ids.map(parseExperimentId).filter((id): id is number => id !== undefined);
      const rows = await graph.experimentTags(numeric);
      const byId = new Map<string, KeyValueModel[]>(ids.map((id) => [id, []]));
      for (const row of rows) byId.get(String(row.experiment_id))?.push({ key: row.key, value: row.value });
      return ids.map((id) => byId.get(id) ?? []);
    }, options);
    this.latestMetrics = new DataLoader(
      async (ids) =>
        group(ids, await graph.latestMetrics(ids), (m) => ({
          key: m.key,
          value: Number(m.value),
          timestamp: m.timestamp,
          step: m.step,
        })),
      options,
    );
    this.params = new DataLoader(
      async (ids) => group(ids, await graph.params(ids), (p) => ({ key: p.key, value: p.value })),
      options,
    );
    this.tags = new DataLoader(
      async (ids) => group(ids, await graph.tags(ids), (t) => ({ key: t.key, value: t.value })),
      options,
    );
    this.datasetInputs = new DataLoader(
      async (ids) =>
        group(ids, await graph.datasetInputs(ids), (d) => datasetInputFromRecord(toDatasetInputRecord(d))),
      options,
    );
    // Through the trace service, as REST's BatchGetTraceInfos reads traces.
    this.trace = new DataLoader(async (ids) => {
      const byId = new Map((await traces.getMany([...ids])).map((trace) => [trace.traceId, trace]));
      return ids.map((id) => byId.get(id) ?? null);
    }, options);
    this.linkedRunIds = new DataLoader((ids) => traces.linkedRunIds(ids), options);
  }

  /** Run counts per experiment for one lifecycle view. */
  runCount(viewType: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL'): DataLoader<string, number> {
    let loader = this.runCounts.get(viewType);
    if (!loader) {
      loader = new DataLoader(
        async (ids) => {
          const numeric = ids.map(parseExperimentId).filter((id): id is number => id !== undefined);
          const counts = await this.graph.runCounts(numeric, viewType);
          return ids.map((id) => counts.get(Number(id)) ?? 0);
        },
        { maxBatchSize: MAX_BATCH },
      );
      this.runCounts.set(viewType, loader);
    }
    return loader;
  }

  /** Downsampled histories by run id, one loader per distinct (key, maxPoints, range). */
  metricHistory(args: MetricHistoryArgs): DataLoader<string, MetricSeriesModel> {
    const signature = JSON.stringify([args.key, args.maxPoints, args.startStep, args.endStep]);
    let loader = this.histories.get(signature);
    if (!loader) {
      loader = new DataLoader(
        async (runIds) =>
          this.graph.downsample(
            runIds.map((runId) => ({ runId, key: args.key })),
            {
              maxPoints: args.maxPoints,
              range: { startStep: args.startStep, endStep: args.endStep },
              strategy: this.strategy,
            },
          ),
        { maxBatchSize: 1000 },
      );
      this.histories.set(signature, loader);
    }
    return loader;
  }

  /** Metric summaries by run id, one loader per distinct key list. */
  metricStats(keys: readonly string[]): DataLoader<string, MetricStatsRow[]> {
    const signature = JSON.stringify(keys);
    let loader = this.stats.get(signature);
    if (!loader) {
      loader = new DataLoader(
        async (runIds) => group(runIds, await this.graph.metricStats(runIds, keys), (row) => row),
        { maxBatchSize: MAX_BATCH },
      );
      this.stats.set(signature, loader);
    }
    return loader;
  }

  /** Seeds the loaders with what a run search already read, so the run's fields cost no query. */
  primeRun(run: RunRecord): RunModel {
    const model = runFromRecord(run.info);
    this.run.prime(model.id, model);
    this.latestMetrics.prime(model.id, run.latestMetrics);
    this.params.prime(model.id, run.params);
    this.tags.prime(model.id, run.tags);
    this.datasetInputs.prime(model.id, run.datasetInputs.map(datasetInputFromRecord));
    return model;
  }

  /** Seeds the trace loader with what a trace search already read. */
  primeTrace(trace: TraceRecord): TraceRecord {
    this.trace.prime(trace.traceId, trace);
    return trace;
  }
}
