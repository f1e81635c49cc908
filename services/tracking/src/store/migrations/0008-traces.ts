import { type Kysely, sql } from 'kysely';

/**
 * MLflow traces (spec §1.6, §1.7): each trace's info, its tags and its metadata, and the runs it is
 * linked to (LinkTracesToRun). Span data is not stored here: clients upload it as an artifact. A trace
 * belongs to an experiment and goes with it when the experiment is removed for good.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table tracking.traces (
      trace_id text primary key,
      experiment_id bigint not null references tracking.experiments on delete cascade,
      client_request_id text,
      request_time bigint not null,
      execution_duration bigint,
      state text not null,
      request_preview text,
      response_preview text
    )
  `.execute(db);
  // The default order of SearchTraces: newest first, then by id.
  await sql`
    create index traces_by_experiment_time on tracking.traces (experiment_id, request_time desc, trace_id)
  `.execute(db);
  for (const table of ['trace_tags', 'trace_metadata']) {
    await sql`
      create table ${sql.table(`tracking.${table}`)} (
        trace_id text not null references tracking.traces on delete cascade,
        key text not null,
        value text not null,
        primary key (trace_id, key)
      )
    `.execute(db);
  }
  // Runs are not referenced: MLflow links any run id it is given, as an entity association.
  await sql`
    create table tracking.trace_runs (
      trace_id text not null references tracking.traces on delete cascade,
      run_uuid text not null,
      primary key (trace_id, run_uuid)
    )
  `.execute(db);
  await sql`create index trace_runs_by_run on tracking.trace_runs (run_uuid)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table tracking.trace_runs, tracking.trace_metadata, tracking.trace_tags, tracking.traces`.execute(
    db,
  );
}
