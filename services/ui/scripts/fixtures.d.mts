import type pg from 'pg';

/** Inserts finished runs with params `p1`… and metrics `m1`… (one point each): F1's shape. Returns the run ids. */
export function seedRuns(
  client: pg.ClientBase,
  size: { experimentId: number; runs: number; params: number; metrics: number },
): Promise<string[]>;

/** Logs `steps` points of metric keys `m1`… to each run, with a 100× spike at `spikeStep`: F2 and F3. */
export function seedHistories(
  client: pg.ClientBase,
  size: { runIds: string[]; keys: number; steps: number; spikeStep?: number },
): Promise<void>;
