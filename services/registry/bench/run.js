#!/usr/bin/env node
// Registry benchmark against a real PostgreSQL (and Redis for the latency figure):
//
//   npm run build && npm run bench -w @mast/registry
//
// 1. Stage transitions per second through the registry service (history row + outbox event in the
//    same transaction) vs the same version/model update without them, interleaved in one run; ratio.
// 2. Commit-to-consumed latency of registry events: relay → Redis (BullMQ) → a worker; p50/p99.
//    Skipped when Redis is unreachable.
// 3. registered-models/search over 10,000 models with tags (and one version each): p50/p99 of three
//    queries through the service layer.
//
// Environment: MAST_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test; a database
// mast_bench_<random> is created and dropped), MAST_BENCH_REDIS_URL (default redis://127.0.0.1:6379),
// MAST_BENCH_TRANSITIONS (default 4000 per side), MAST_BENCH_CONCURRENCY (default 8).

import { randomBytes } from 'node:crypto';
import { createQueueConnection, migrateToLatest, OutboxRelay, openDatabase } from '@mast/common';
import {
  parseModelFilter,
  parseModelOrderBy,
  REGISTRY_EVENTS_QUEUE,
  RegistryService,
  registryMigrations,
} from '@mast/registry';
import { sql } from 'kysely';
import pg from 'pg';

const POSTGRES_URL = process.env.MAST_BENCH_POSTGRES_URL || 'postgresql://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.MAST_BENCH_REDIS_URL || 'redis://127.0.0.1:6379';
const TRANSITIONS = Number(process.env.MAST_BENCH_TRANSITIONS || 4000);
const CONCURRENCY = Number(process.env.MAST_BENCH_CONCURRENCY || 8);
const SEARCH_MODELS = 10_000;
const VERSIONS_PER_MODEL = 4;
const STAGES = ['Staging', 'Production', 'Archived', 'None'];

const log = (message) => process.stderr.write(`${message}\n`);

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function withDatabase(work) {
  const name = `mast_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  const database = await openDatabase({ uri: url.toString(), poolSize: CONCURRENCY + 4 });
  try {
    await migrateToLatest(database.db, registryMigrations);
    return await work(database.db);
  } finally {
    await database.close();
    const dropper = new pg.Client({ connectionString: POSTGRES_URL });
    await dropper.connect();
    await dropper.query(`drop database if exists ${name} with (force)`);
    await dropper.end();
  }
}

/** Runs `count` tasks with `concurrency` workers; resolves with the elapsed milliseconds. */
async function pool(count, concurrency, task) {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
  return performance.now() - start;
}

/** The same change as a transition, without the history row and the outbox event. */
async function plainTransition(db, modelId, version, stage) {
  await db.transaction().execute(async (tx) => {
    await sql`select id from registry.registered_models where id = ${modelId} for update`.execute(tx);
    const now = Date.now();
    await sql`update registry.model_versions set current_stage = ${stage}, last_updated_time = ${now}
              where model_id = ${modelId} and version = ${version}`.execute(tx);
    await sql`update registry.registered_models set last_updated_time = ${now} where id = ${modelId}`.execute(
      tx,
    );
  });
}

async function transitions(db) {
  const service = new RegistryService({ db });
  const withoutOutbox = new RegistryService({ db, publishEvents: false });
  // One model per worker slot so writers do not queue on one model's row lock (the contention test
  // is the concurrency suite's job); each model has versions to move around.
  const models = [];
  for (let i = 0; i < CONCURRENCY * 4; i++) {
    const name = `bench-${i}`;
    await service.createModel({ name, tags: [] });
    for (let v = 0; v < VERSIONS_PER_MODEL; v++)
      await service.createVersion({ name, source: `s3://b/${name}/${v}`, tags: [] });
    const row = await sql`select id from registry.registered_models where name = ${name}`.execute(db);
    models.push({ name, id: Number(row.rows[0].id) });
  }
  const pick = (i) => ({
    model: models[i % models.length],
    version: 1 + (Math.floor(i / models.length) % VERSIONS_PER_MODEL),
    stage: STAGES[i % STAGES.length],
  });
  const rounds = 8;
  const per = Math.ceil(TRANSITIONS / rounds);
  let outboxMs = 0;
  let plainMs = 0;
  let rawMs = 0;
  // Interleaved rounds: both sides see the same cache, vacuum and checkpoint conditions.
  for (let round = 0; round < rounds; round++) {
    outboxMs += await pool(per, CONCURRENCY, async (i) => {
      const { model, version, stage } = pick(i);
      await service.transitionStage(model.name, String(version), stage, false);
    });
    plainMs += await pool(per, CONCURRENCY, async (i) => {
      const { model, version, stage } = pick(i);
      await withoutOutbox.transitionStage(model.name, String(version), stage, false);
    });
    rawMs += await pool(per, CONCURRENCY, async (i) => {
      const { model, version, stage } = pick(i);
      await plainTransition(db, model.id, version, stage);
    });
  }
  const total = per * rounds;
  const withOutbox = (total / outboxMs) * 1000;
  const plain = (total / plainMs) * 1000;
  const raw = (total / rawMs) * 1000;
  return { total, withOutbox, plain, raw, ratio: withOutbox / plain, rawRatio: withOutbox / raw };
}

async function eventLatency(db) {
  const queues = createQueueConnection({
    redisUrl: REDIS_URL,
    prefix: `mast-bench-${randomBytes(4).toString('hex')}`,
  });
  const relay = new OutboxRelay({ db, schema: 'registry', queues, pollIntervalMs: 1000 });
  const service = new RegistryService({ db, onEventsCommitted: () => relay.wake() });
  const committedAt = new Map();
  const latencies = [];
  const worker = queues.queue(REGISTRY_EVENTS_QUEUE).process(
    async (job) => {
      const { name, version, to_stage: stage } = job.data.payload;
      const start = committedAt.get(`${name}/${version}/${stage}`);
      if (start !== undefined) latencies.push(performance.now() - start);
    },
    { concurrency: 8 },
  );
  try {
    await queues.queue(REGISTRY_EVENTS_QUEUE).add('warmup', { payload: {} });
    relay.start();
    await service.createModel({ name: 'latency', tags: [] });
    await service.createVersion({ name: 'latency', source: 's3://b/latency', tags: [] });
    const count = 200;
    for (let i = 0; i < count; i++) {
      const stage = STAGES[i % STAGES.length];
      await service.transitionStage('latency', '1', stage, false);
      committedAt.set(`latency/1/${stage}`, performance.now());
      // One transition in flight at a time, so each key names one event.
      const deadline = performance.now() + 5000;
      while (latencies.length <= i && performance.now() < deadline)
        await new Promise((r) => setTimeout(r, 1));
    }
    return { count: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  } finally {
    await relay.stop();
    await worker.close?.();
    await queues.close();
  }
}

async function search(db) {
  // 10,000 models, 3 tags each, 1 version each, seeded in a few statements.
  await sql`insert into registry.registered_models (name, creation_time, last_updated_time, description)
            select 'model-' || lpad(i::text, 5, '0'), 1700000000000 + i, 1700000000000 + i, 'model ' || i
            from generate_series(1, ${SEARCH_MODELS}) i`.execute(db);
  await sql`insert into registry.registered_model_tags (model_id, key, value)
            select id, k.key, case k.key when 'team' then (array['risk','growth','ops','core'])[1 + id % 4]
                                         when 'tier' then 'tier-' || (id % 10) else 'owner-' || (id % 100) end
            from registry.registered_models, (values ('team'), ('tier'), ('owner')) k(key)
            where name like 'model-%'`.execute(db);
  await sql`update registry.registered_models set last_version = 1 where name like 'model-%'`.execute(db);
  await sql`insert into registry.model_versions (model_id, version, creation_time, last_updated_time, current_stage, source, status)
            select id, 1, creation_time, creation_time, 'None', 's3://b/' || name, 'READY'
            from registry.registered_models where name like 'model-%'`.execute(db);
  await sql`analyze`.execute(db);
  const service = new RegistryService({ db });
  const queries = [
    ['first page (no filter, 100)', undefined, []],
    ["name LIKE 'model-01%'", "name LIKE 'model-01%'", []],
    [
      "tags.team = 'risk' AND name LIKE 'model-0%'",
      "tags.team = 'risk' AND name LIKE 'model-0%'",
      ['last_updated_timestamp DESC'],
    ],
  ];
  const results = [];
  for (const [label, filter, orderBy] of queries) {
    const times = [];
    for (let i = 0; i < 120; i++) {
      const start = performance.now();
      await service.searchModels({
        filter: parseModelFilter(filter),
        orderBy: parseModelOrderBy(orderBy),
        maxResults: 100,
        offset: 0,
      });
      if (i >= 20) times.push(performance.now() - start);
    }
    results.push({ label, p50: percentile(times, 50), p99: percentile(times, 99) });
  }
  return results;
}

const fmt = (n, digits = 1) => n.toFixed(digits);

await withDatabase(async (db) => {
  log(`stage transitions: ${TRANSITIONS} per side, concurrency ${CONCURRENCY}...`);
  const t = await transitions(db);
  let latency;
  try {
    log('commit-to-consumed latency through Redis...');
    latency = await eventLatency(db);
  } catch (error) {
    log(`latency skipped: ${error.message}`);
  }
  log(`search over ${SEARCH_MODELS} models...`);
  const s = await search(db);
  console.log('\nRegistry benchmark (PostgreSQL)');
  console.log(`  stage transitions (service, outbox event + history): ${fmt(t.withOutbox)}/s`);
  console.log(`  same transitions without the outbox event:          ${fmt(t.plain)}/s`);
  console.log(`  ratio with/without outbox (target >= 0.7):          ${fmt(t.ratio, 2)}`);
  console.log(
    `  bare SQL update (lock, 2 updates, no history/answer): ${fmt(t.raw)}/s (ratio ${fmt(t.rawRatio, 2)})`,
  );
  if (latency) {
    console.log(
      `  commit-to-consumed (Redis), ${latency.count} events: p50 ${fmt(latency.p50)} ms, p99 ${fmt(latency.p99)} ms (target p99 <= 100 ms)`,
    );
  }
  for (const row of s) {
    console.log(
      `  search 10k models, ${row.label}: p50 ${fmt(row.p50)} ms, p99 ${fmt(row.p99)} ms (target p50 <= 20 ms)`,
    );
  }
});
process.exit(0);
