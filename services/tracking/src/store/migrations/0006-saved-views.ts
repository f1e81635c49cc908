import { type Kysely, sql } from 'kysely';

/**
 * Saved views of the web UI (ui.md §5.1): a page's state stored under a short id. Unnamed views are
 * the UI's short links for long URLs, one row per (page, experiment, state), whoever saves it; named
 * views are unique per owner, page, experiment and name, personal or shared.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table tracking.saved_views (
      view_id text primary key,
      page text not null,
      experiment_id bigint references tracking.experiments on delete cascade,
      state text not null,
      name text,
      description text not null default '',
      owner text not null,
      shared boolean not null default false,
      creation_time bigint not null,
      last_update_time bigint not null
    )
  `.execute(db);
  await sql`
    create unique index saved_views_by_name on tracking.saved_views (owner, page, experiment_id, name)
      nulls not distinct where name is not null
  `.execute(db);
  await sql`
    create index saved_views_by_page on tracking.saved_views (page, experiment_id) where name is not null
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table tracking.saved_views`.execute(db);
}
