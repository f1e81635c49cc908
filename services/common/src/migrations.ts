import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';

export interface ServiceMigrations {
  /** The Postgres schema the service owns; its migration table lives there too. */
  schema: string;
  /** Migrations by name; names sort in the order they apply. */
  migrations: Record<string, Migration>;
}

/** Brings a service's schema up to date. Safe to run from several processes: Kysely takes a lock. */
export async function migrateToLatest(db: Kysely<unknown>, service: ServiceMigrations): Promise<string[]> {
  await sql`create schema if not exists ${sql.id(service.schema)}`.execute(db);
  const provider: MigrationProvider = { getMigrations: async () => service.migrations };
  const migrator = new Migrator({
    db,
    provider,
    migrationTableSchema: service.schema,
    migrationTableName: 'mast_migrations',
    migrationLockTableName: 'mast_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
