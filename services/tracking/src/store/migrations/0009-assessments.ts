import { type Kysely, sql } from 'kysely';

/**
 * Assessments of traces (spec §1.6, MLflow's `assessments` table): feedback and expectations, each of
 * one trace, going with it when the trace is deleted. `value`, `error` and `metadata` hold JSON text
 * (`value` keeps an object's key order, as MLflow's `json.dumps` column does). `overrides` names another
 * assessment of the trace without a reference: MLflow keeps it when that one is deleted. `seq` orders
 * assessments created in the same millisecond as they were created.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table tracking.assessments (
      assessment_id text primary key,
      trace_id text not null references tracking.traces on delete cascade,
      seq bigint generated always as identity,
      name text not null,
      assessment_type text not null check (assessment_type in ('feedback', 'expectation')),
      value text not null,
      error text,
      create_time bigint not null,
      last_update_time bigint not null,
      source_type text not null,
      source_id text,
      run_id text,
      span_id text,
      rationale text,
      overrides text,
      valid boolean not null default true,
      metadata text
    )
  `.execute(db);
  // A trace's assessments in the order trace infos list them.
  await sql`
    create index assessments_by_trace on tracking.assessments (trace_id, create_time, seq)
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table tracking.assessments`.execute(db);
}
