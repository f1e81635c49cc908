import type { Kysely } from 'kysely';
import type { TrackingDatabase } from './schema.js';

/** The distinct keys an experiment's runs logged, each list sorted. */
export interface ExperimentKeys {
  metrics: string[];
  params: string[];
  tags: string[];
}

/**
 * Key lists for the UI's column picker and filter completion (ui.md §5.5 `experimentKeys`): read from
 * the latest-value table (one row per run and metric key), never from the metric history.
 */
export class ExperimentKeyStore {
  constructor(private readonly db: Kysely<TrackingDatabase>) {}

  /** Keys of the runs of experiment `experimentId` in every lifecycle stage; empty lists when it has none. */
  async keys(experimentId: number): Promise<ExperimentKeys> {
    const [metrics, params, tags] = await Promise.all(
      (['tracking.latest_metrics', 'tracking.params', 'tracking.tags'] as const).map((table) =>
        this.db
          .selectFrom(table)
          .innerJoin('tracking.runs', 'tracking.runs.run_uuid', `${table}.run_uuid`)
          .where('tracking.runs.experiment_id', '=', experimentId)
          .select(`${table}.key`)
          .distinct()
          .orderBy(`${table}.key`)
          .execute(),
      ),
    );
    const keysOf = (rows: Array<{ key: string }>) => rows.map((row) => row.key);
    return { metrics: keysOf(metrics!), params: keysOf(params!), tags: keysOf(tags!) };
  }
}
