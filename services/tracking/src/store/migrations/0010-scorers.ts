import { type Kysely, sql } from 'kysely';

/**
 * Registered scorers (MLflow 3's `scorers` and `scorer_versions` tables): a scorer is a name in an
 * experiment with a uuid, each registration of it a new version holding the serialized scorer (JSON
 * text). They go with their experiment when it is removed for good, as MLflow's foreign keys cascade;
 * soft deletion keeps them. The unique (experiment, name) row is what concurrent registrations of one
 * name lock, so versions are numbered without gaps or doubles.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table tracking.scorers (
      scorer_id text primary key,
      experiment_id bigint not null references tracking.experiments on delete cascade,
      scorer_name text not null,
      unique (experiment_id, scorer_name)
    )
  `.execute(db);
  await sql`
    create table tracking.scorer_versions (
      scorer_id text not null references tracking.scorers on delete cascade,
      scorer_version integer not null,
      serialized_scorer text not null,
      creation_time bigint not null,
      primary key (scorer_id, scorer_version)
    )
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table tracking.scorer_versions`.execute(db);
  await sql`drop table tracking.scorers`.execute(db);
}
