import type { HistoryRecord } from '../domain/records.js';
import type { RegistryExecutor } from './schema.js';

export interface NewHistoryEntry {
  kind: HistoryRecord['kind'];
  version: number | null;
  from: string | null;
  to: string | null;
  alias?: string | null;
  actor?: string | null;
  reason?: string | null;
}

/** Appends stage/alias history rows of one model, in the given order. */
export async function appendHistory(
  db: RegistryExecutor,
  modelId: number,
  entries: NewHistoryEntry[],
  now: number,
): Promise<void> {
  if (entries.length === 0) return;
  await db
    .insertInto('registry.history')
    .values(
      entries.map((entry) => ({
        model_id: modelId,
        kind: entry.kind,
        version: entry.version,
        from_value: entry.from,
        to_value: entry.to,
        alias: entry.alias ?? null,
        actor: entry.actor ?? null,
        reason: entry.reason ?? null,
        created_at: now,
      })),
    )
    .execute();
}

/** A model's history, oldest first (optionally of one version), one more than asked for paging. */
export async function listHistory(
  db: RegistryExecutor,
  modelId: number,
  name: string,
  options: { version?: number; limit: number; offset: number },
): Promise<{ entries: HistoryRecord[]; hasMore: boolean }> {
  let query = db.selectFrom('registry.history').selectAll().where('model_id', '=', modelId);
  if (options.version !== undefined) query = query.where('version', '=', options.version);
  const rows = await query
    .orderBy('seq')
    .limit(options.limit + 1)
    .offset(options.offset)
    .execute();
  return {
    hasMore: rows.length > options.limit,
    entries: rows.slice(0, options.limit).map((row) => ({
      kind: row.kind as HistoryRecord['kind'],
      name,
      version: row.version,
      from: row.from_value,
      to: row.to_value,
      alias: row.alias,
      actor: row.actor,
      reason: row.reason,
      timestamp: row.created_at,
    })),
  };
}
