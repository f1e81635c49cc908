import { sql } from 'kysely';
import type { DatasetInputRecord, KeyValue } from '../domain/records.js';
import type { TrackingExecutor } from './schema.js';

/** A run's dataset input as stored: the dataset's columns and the input's tags (a JSON list). */
export interface DatasetInputRow {
  run_uuid: string;
  tags: string;
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema: string | null;
  profile: string | null;
}

/** The dataset inputs of some runs, by dataset name and digest. */
export function selectDatasetInputs(
  db: TrackingExecutor,
  runIds: readonly string[],
): Promise<DatasetInputRow[]> {
  return db
    .selectFrom('tracking.dataset_inputs as di')
    .innerJoin('tracking.datasets as d', 'd.dataset_uuid', 'di.dataset_uuid')
    .select([
      'di.run_uuid',
      'di.tags',
      'd.name',
      'd.digest',
      'd.source_type',
      'd.source',
      'd.schema',
      'd.profile',
    ])
    .where(sql<boolean>`di.run_uuid = any(${[...runIds]}::text[])`)
    .orderBy('d.name')
    .orderBy('d.digest')
    .execute();
}

export function toDatasetInputRecord(row: DatasetInputRow): DatasetInputRecord {
  return {
    name: row.name,
    digest: row.digest,
    sourceType: row.source_type,
    source: row.source,
    schema: row.schema,
    profile: row.profile,
    tags: JSON.parse(row.tags) as KeyValue[],
  };
}
