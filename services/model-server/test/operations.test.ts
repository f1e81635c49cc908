/** @jest-environment ./services/model-server/test/support/onnx-environment.cjs */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { buildModelServer, type LoadedModel, loadModel } from '../src/index.js';
import { generateTestModels, type TestModels } from './support/models.js';
import { slowModel } from './support/server.js';

/**
 * Shutdown and load failures as an operator sees them: a request whose first bytes reached the server
 * before it began closing is answered, not refused with Fastify's own 503 body (MLflow's uvicorn
 * answers every request it has begun reading); keep-alive connections do not hold the shutdown; the
 * loaded model's log line says whether batching is on; a model that fails to load is one log line
 * with its reason, without Node's stack frames.
 */

let models: TestModels;
beforeAll(async () => {
  models = await generateTestModels();
});

const BODY = JSON.stringify({ inputs: [Array.from({ length: 64 }, (_, i) => i / 64)] });

/** What the server writes to a socket until it closes it, or 2 s after its first bytes. */
function readAll(socket: Socket): Promise<string> {
  let text = '';
  socket.setEncoding('utf8');
  return new Promise((resolve) => {
    socket.on('data', (chunk: string) => {
      if (text === '') setTimeout(() => resolve(text), 2000);
      text += chunk;
    });
    socket.on('close', () => resolve(text));
  });
}

describe('model server shutdown', () => {
  test('a request begun before close() is answered with its predictions, and the connection closed', async () => {
    const app = buildModelServer({ load: () => slowModel(models.heavy, 300), logger: false });
    const url = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
    const port = Number(url.port);
    while ((await fetch(`${url.origin}/ping`)).status !== 200) await new Promise((r) => setTimeout(r, 20));

    // A: in flight when close() starts. B: its request line has arrived, its headers have not.
    const first = connect(port, '127.0.0.1');
    const second = connect(port, '127.0.0.1');
    await Promise.all([once(first, 'connect'), once(second, 'connect')]);
    const firstAnswer = readAll(first);
    const secondAnswer = readAll(second);
    const headers = `Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(BODY)}\r\n\r\n`;
    first.write(`POST /invocations HTTP/1.1\r\n${headers}${BODY}`);
    second.write('POST /invocations HTTP/1.1\r\n');
    await new Promise((r) => setTimeout(r, 100));

    const closed = app.close();
    await new Promise((r) => setTimeout(r, 20));
    second.write(`${headers}${BODY}`);

    for (const answer of [await firstAnswer, await secondAnswer]) {
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
      expect(answer).toMatch(/\{"predictions":\{"y":\[\[-?\d/);
    }
    expect((await secondAnswer).toLowerCase()).toContain('connection: close');
    // The first connection was kept alive by its answer; closing ends it at once instead of waiting
    // out the keep-alive (72 s), which held the shutdown past MAST_SHUTDOWN_TIMEOUT.
    const started = Date.now();
    await closed;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(first.destroyed || first.readyState === 'closed').toBe(true);
  }, 30_000);
});

/** The JSON log lines of a server that loads its model, then closes. */
async function logLines(
  load: () => Promise<LoadedModel>,
  batching?: { maxBatchSize: number; maxWaitMs: number },
) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const app = buildModelServer({
    load,
    ...(batching ? { batching } : {}),
    logger: { level: 'info', stream } as unknown as { level: string },
  });
  await app.ready();
  await new Promise((r) => setTimeout(r, 200));
  await app.close();
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('operator log lines', () => {
  test('the loaded model says whether adaptive batching is on', async () => {
    const on = await logLines(() => loadModel(models.linear), { maxBatchSize: 32, maxWaitMs: 5 });
    expect(on.map((l) => l.msg)).toContain(
      `model loaded from ${models.linear} (flavor onnx; inputs x; adaptive batching up to 32 rows, 5 ms wait)`,
    );
    const off = await logLines(() => loadModel(models.linear));
    expect(off.map((l) => l.msg)).toContain(
      `model loaded from ${models.linear} (flavor onnx; inputs x; no batching)`,
    );
  });

  test('a model that fails to load: one log line with the reason, no stack frames', async () => {
    const failure = new Error('Load model from /models/x/model.onnx failed:Protobuf parsing failed.');
    const errors = (await logLines(() => Promise.reject(failure))).filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toBe(
      'the model failed to load: Load model from /models/x/model.onnx failed:Protobuf parsing failed.',
    );
    expect(JSON.stringify(errors[0])).not.toContain('    at ');
  });
});
