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
    const running = [limiter.acquire(), limiter.acquire()];
    const queued = limiter.acquire();
    await expect(limiter.acquire()).rejects.toMatchObject({
      code: 'REQUEST_LIMIT_EXCEEDED',
      httpStatus: 429,
    });
    expect(limiter.load).toEqual({ active: 2, waiting: 1 });
    const [first, second] = await Promise.all(running);
    first!();
    // The slot passes to the waiting one; giving it back twice frees nothing more.
    const third = await queued;
    first!();
    expect(limiter.load).toEqual({ active: 2, waiting: 0 });
    second!();
    third();
    expect(limiter.load).toEqual({ active: 0, waiting: 0 });
  });

  test('a waiting request whose client leaves gives up its place', async () => {
    const limiter = new ExpensiveRequestLimiter({ concurrency: 1, queueSize: 5 });
    const release = await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    expect(limiter.load.waiting).toBe(1);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(MlflowError);
    expect(limiter.load).toEqual({ active: 1, waiting: 0 });
    release();
    expect(limiter.load).toEqual({ active: 0, waiting: 0 });
  });
});

/** Real HTTP against a real PostgreSQL: the limiter in front of routes, and queries cancelled with their client. */
describe('expensive RPCs over HTTP (postgres)', () => {
  let database: Database<unknown>;
  let app: FastifyInstance;
  let client: HttpClient;
  const held = gate();
  const streamHeld = gate();
  let exportFailsFirst = false;

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
    rpc(
      app,
      'GET',
      '/test/export-failing',
      async () => {
        // A page query that fails after the header went out, and one that fails before anything did.
        async function* rows(first: boolean): AsyncGenerator<string> {
          if (!first) yield 'a,b\n';
          throw new Error('the page query failed');
        }
        return new StreamedText('text/csv', rows(exportFailsFirst));
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

  test('a streamed answer that fails, before or after its first chunk, gives its slot back', async () => {
    const response = await fetch(`${client.baseUrl}/api/2.0/test/export-failing`);
    expect(response.status).toBe(200);
    // The answer is cut short: its body cannot be read to the end.
    await expect(response.text()).rejects.toThrow();
    await eventually(async () => app.expensiveRequests!.load.active === 0);
    exportFailsFirst = true;
    const early = await client.get('/api/2.0/test/export-failing');
    expect(early.status).toBe(500);
    await eventually(async () => app.expensiveRequests!.load.active === 0);
    expect(app.expensiveRequests!.load).toEqual({ active: 0, waiting: 0 });
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
