import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { HttpClient, openTestDatabase } from '@mast/test-support';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import {
  createHttpApp,
  type Database,
  ExpensiveRequestLimiter,
  MlflowError,
  rpc,
  StreamedText,
  withCancellation,
} from '../src/index.js';

/** A promise and the function that settles it: lets a test hold a handler until it says so. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('ExpensiveRequestLimiter', () => {
  test('runs at most `concurrency` at once, queues up to `queueSize`, refuses the rest with 429', async () => {
    const limiter = new ExpensiveRequestLimiter({ concurrency: 2, queueSize: 1 });
    const held = gate();
    let running = 0;
    let most = 0;
    const work = async () => {
      running++;
      most = Math.max(most, running);
      await held.opened;
      running--;
      return 'done';
    };
    const accepted = [limiter.run(work), limiter.run(work), limiter.run(work)];
    await expect(limiter.run(work)).rejects.toMatchObject({
      code: 'REQUEST_LIMIT_EXCEEDED',
      httpStatus: 429,
    });
    expect(limiter.load).toEqual({ active: 2, waiting: 1 });
    held.open();
    expect(await Promise.all(accepted)).toEqual(['done', 'done', 'done']);
    expect(most).toBe(2);
    expect(limiter.load).toEqual({ active: 0, waiting: 0 });
  });

  test('a waiting request whose client leaves gives up its place', async () => {
    const limiter = new ExpensiveRequestLimiter({ concurrency: 1, queueSize: 5 });
    const held = gate();
    const first = limiter.run(() => held.opened);
    const controller = new AbortController();
    const waiting = limiter.run(async () => 'never', controller.signal);
    expect(limiter.load.waiting).toBe(1);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(MlflowError);
    expect(limiter.load.waiting).toBe(0);
    held.open();
    await first;
  });
});

/** Real HTTP against a real PostgreSQL: the limiter in front of routes, and queries cancelled with their client. */
describe('expensive RPCs over HTTP (postgres)', () => {
  let database: Database<unknown>;
  let app: FastifyInstance;
  let client: HttpClient;
  const held = gate();
  const streamHeld = gate();

  beforeAll(async () => {
    database = await openTestDatabase('postgres');
    ({ app } = createHttpApp({
      logLevel: 'silent',
      bodyLimit: 1024 * 1024,
      expensiveRequests: { concurrency: 1, queueSize: 1 },
    }));
    rpc(
      app,
      'GET',
      '/test/slow',
      async () => {
        await held.opened;
        return { slow: true };
      },
      { expensive: true },
    );
    rpc(
      app,
      'GET',
      '/test/export',
      async () => {
        async function* rows(): AsyncGenerator<string> {
          yield 'a,b\n';
          await streamHeld.opened;
          yield '1,2\n';
        }
        return new StreamedText('text/csv', rows());
      },
      { expensive: true },
    );
    rpc(
      app,
      'GET',
      '/test/export-until-gone',
      async (_reader, _request, signal) => {
        // Reads until its client leaves, as an export's page queries end when they are cancelled.
        async function* rows(): AsyncGenerator<string> {
          yield 'a,b\n';
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        }
        return new StreamedText('text/csv', rows());
      },
      { expensive: true },
    );
    rpc(app, 'GET', '/test/cheap', async () => ({ cheap: true }));
    rpc(app, 'GET', '/test/sleep', async (_reader, _request, signal) => {
      await withCancellation(database.db, signal, (db) => sql`select pg_sleep(30)`.execute(db));
      return {};
    });
    client = new HttpClient(await app.listen({ host: '127.0.0.1', port: 0 }));
  });

  afterAll(async () => {
    held.open();
    // The aborted request's keep-alive peer lingers until its client's idle timeout: do not wait for it.
    const closing = app?.close();
    app?.server.closeAllConnections();
    await closing;
    await database?.close();
  });

  test('past the queue, an expensive call is refused at once with 429 while cheap calls still answer', async () => {
    const running = client.get('/api/2.0/test/slow');
    await eventually(async () => app.expensiveRequests!.load.active === 1);
    const queued = client.get('/ajax-api/2.0/test/slow');
    await eventually(async () => app.expensiveRequests!.load.waiting === 1);
    const started = Date.now();
    const refused = await client.get('/api/2.0/test/slow');
    expect(refused.status).toBe(429);
    expect(refused.body.error_code).toBe('REQUEST_LIMIT_EXCEEDED');
    expect((await client.get('/api/2.0/test/cheap')).body).toEqual({ cheap: true });
    // Without the limit the refused call would wait for the held one forever.
    expect(Date.now() - started).toBeLessThan(10_000);
    held.open();
    expect((await running).status).toBe(200);
    expect((await queued).status).toBe(200);
  });

  test('a streamed answer keeps its slot until the stream ends, then gives it to the next', async () => {
    const response = await fetch(`${client.baseUrl}/api/2.0/test/export`);
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('a,b\n');
    // The handler has returned, but the export still reads: it still counts.
    expect(app.expensiveRequests!.load).toEqual({ active: 1, waiting: 0 });
    const queued = client.get('/api/2.0/test/export');
    await eventually(async () => app.expensiveRequests!.load.waiting === 1);
    streamHeld.open();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      rest += new TextDecoder().decode(chunk.value);
    expect(rest).toBe('1,2\n');
    expect((await queued).status).toBe(200);
    await eventually(async () => app.expensiveRequests!.load.active === 0);
    expect(app.expensiveRequests!.load).toEqual({ active: 0, waiting: 0 });
  });

  test('a streamed answer whose client goes away gives its slot back', async () => {
    const controller = new AbortController();
    const response = await fetch(`${client.baseUrl}/api/2.0/test/export-until-gone`, {
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('a,b\n');
    expect(app.expensiveRequests!.load.active).toBe(1);
    controller.abort();
    await eventually(async () => app.expensiveRequests!.load.active === 0);
  });

  test('a client that goes away cancels its PostgreSQL statement', async () => {
    const controller = new AbortController();
    const request = fetch(`${client.baseUrl}/api/2.0/test/sleep`, { signal: controller.signal }).catch(
      (error: unknown) => error,
    );
    const sleeping = async () => {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from pg_stat_activity where query like 'select pg_sleep(30)%' and state = 'active'
      `.execute(database.db);
      return rows[0]!.n;
    };
    await eventually(async () => (await sleeping()) === 1);
    controller.abort();
    expect(((await request) as { name?: string }).name).toBe('AbortError');
    await eventually(async () => (await sleeping()) === 0, 3000);
  });
});
