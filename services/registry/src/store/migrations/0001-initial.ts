import { type Kysely, sql } from 'kysely';

/** The registry schema as of the first release. Plain SQL that PostgreSQL 15 and PGlite (18) both accept. */
export async function up(db: Kysely<unknown>): Promise<void> {
  // One statement per call: PGlite's extended protocol takes a single command at a time.
  for (const statement of SCHEMA.split(/;\s*\n/)) {
    if (statement.trim()) await sql.raw(statement).execute(db);
  }
}

const SCHEMA = `
    create table registry.registered_models (
      id bigint generated always as identity primary key,
      name text not null unique,
      creation_time bigint not null,
      last_updated_time bigint not null,
      description text,
      user_id text,
      -- The highest version number ever given (deleted versions included): numbers are never reused.
      last_version integer not null default 0
    );
    create index registered_models_by_updated on registry.registered_models (last_updated_time, name);
    create table registry.registered_model_tags (
      model_id bigint not null references registry.registered_models on delete cascade,
      key text not null,
      value text not null,
      primary key (model_id, key)
    );
    create index registered_model_tags_by_key on registry.registered_model_tags (key, value);
    create table registry.model_versions (
      model_id bigint not null references registry.registered_models on delete cascade,
      version integer not null,
      creation_time bigint not null,
      last_updated_time bigint not null,
      description text,
      user_id text,
      current_stage text not null,
      source text not null,
      storage_location text,
      run_id text,
      run_link text,
      status text not null,
      status_message text,
      logged_model_id text,
      primary key (model_id, version)
    );
    create index model_versions_by_run on registry.model_versions (run_id);
    create index model_versions_by_stage on registry.model_versions (model_id, current_stage, version desc);
    create table registry.model_version_tags (
      model_id bigint not null,
      version integer not null,
      key text not null,
      value text not null,
      primary key (model_id, version, key),
      foreign key (model_id, version) references registry.model_versions on delete cascade
    );
    create table registry.aliases (
      model_id bigint not null,
      alias text not null,
      version integer not null,
      primary key (model_id, alias),
      foreign key (model_id, version) references registry.model_versions on delete cascade
    );
    create table registry.history (
      seq bigint generated always as identity primary key,
      model_id bigint not null references registry.registered_models on delete cascade,
      kind text not null,
      version integer,
      from_value text,
      to_value text,
      alias text,
      actor text,
      reason text,
      created_at bigint not null
    );
    create index history_by_model on registry.history (model_id, seq)
`;
