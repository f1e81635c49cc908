/** @jest-environment ./services/model-server/test/support/onnx-environment.cjs */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as ort from 'onnxruntime-node';
import { generateTestModels, type TestModels } from './support/models.js';
import { type RunningServer, referenceRun, slowModel, startServer } from './support/server.js';

const CALLERS = 64;

/** Reads a histogram's count and sum from the Prometheus text. */
function histogram(text: string, name: string): { count: number; sum: number } {
  const value = (suffix: string) =>
    Number(new RegExp(`^${name}_${suffix} (\\S+)$`, 'm').exec(text)?.[1] ?? 'NaN');
  return { count: value('count'), sum: value('sum') };
}

/**
 * Adaptive batching over real HTTP: 64 concurrent callers, each with its own rows (1 to 3), get
 * exactly their own predictions, equal to onnxruntime's, while the model ran fewer calls than
 * requests (at most 64 rows each).
 */
describe('adaptive batching', () => {
  let models: TestModels;
  let server: RunningServer;
  beforeAll(async () => {
    models = await generateTestModels();
    // Each inference call takes 100 ms more than onnxruntime needs, so that requests surely arrive
    // while one runs, however slow the (shared) machine makes this process's client.
    server = await startServer({
      load: () => slowModel(models.heavy, 100),
      batching: { maxBatchSize: 64, maxWaitMs: 20 },
    });
  });
  afterAll(async () => server.close());

  test('64 concurrent callers each get exactly their own rows', async () => {
    const requests = Array.from({ length: CALLERS }, (_, caller) =>
      Array.from({ length: 1 + (caller % 3) }, (_, row) =>
        Array.from({ length: 64 }, (_, i) => Math.cos(caller * 7.1 + row * 3.3 + i)),
      ),
    );
    const all = requests.flat();
    const outputs = await referenceRun(models.heavy, {
      x: new ort.Tensor('float32', Float32Array.from(all.flat()), [all.length, 64]),
    });
    const reference = Array.from(outputs.y!.data as Float32Array);

    const replies = await Promise.all(requests.map((rows) => server.post('/invocations', { inputs: rows })));
    let offset = 0;
    for (const [caller, reply] of replies.entries()) {
      expect(reply.status).toBe(200);
      const expected = requests[caller]!.map((_, row) => [reference[offset + row]]);
      // float32 matmuls of different batch sizes may round differently in the last bits
      const got = reply.json.predictions.y as number[][];
      expect(got).toHaveLength(expected.length);
      for (const [row, value] of got.entries()) expect(value[0]).toBeCloseTo(expected[row]![0]!, 4);
      offset += expected.length;
    }

    const metrics = (await server.get('/metrics')).text;
    const batches = histogram(metrics, 'mast_model_batch_rows');
    expect(batches.sum).toBe(all.length);
    // Fewer calls than requests, and some call carried several callers' rows (one caller sends at
    // most 3). How many calls exactly depends on how fast this shared machine lets the client send.
    expect(batches.count).toBeLessThan(CALLERS);
    const callsUpTo4 = Number(/^mast_model_batch_rows_bucket\{le="4"\} (\d+)$/m.exec(metrics)?.[1]);
    expect(callsUpTo4).toBeLessThan(batches.count);
    // every call took at most maxBatchSize rows
    const callsUpTo64 = Number(/^mast_model_batch_rows_bucket\{le="64"\} (\d+)$/m.exec(metrics)?.[1]);
    expect(callsUpTo64).toBe(batches.count);
  });

  test('a bad request in a burst fails alone; its neighbours are answered', async () => {
    const good = Array.from({ length: 64 }, (_, i) => i / 64);
    const replies = await Promise.all([
      server.post('/invocations', { inputs: [good] }),
      server.post('/invocations', { inputs: [good.slice(1)] }),
      server.post('/invocations', { inputs: [good, good] }),
    ]);
    expect(replies.map((reply) => reply.status)).toEqual([200, 400, 200]);
    expect(replies[2]!.json.predictions.y[0]).toEqual(replies[0]!.json.predictions.y[0]);
  });
});
