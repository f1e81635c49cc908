/** @jest-environment ./services/model-server/test/support/onnx-environment.cjs */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { generateTestModels } from './support/models.js';
import { type RunningServer, startServer } from './support/server.js';

/** `[[[inner]]]`, `depth` lists deep, as JSON text (JSON.stringify itself fails thousands deep). */
const nested = (depth: number, inner: string) => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;

/** Request bodies nested thousands deep over real HTTP: MLflow's 400 for bad input, never a 500. */
describe('input nested thousands deep (linear model, column signature f0..f3)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ modelDir: (await generateTestModels()).linear, modelName: 'linear' });
  });
  afterAll(async () => server.close());

  test('/invocations inputs and instances: 400 BAD_REQUEST, then the next request is served', async () => {
    for (const depth of [5000, 100_000])
      for (const body of [
        `{"inputs": ${nested(depth, '1')}}`,
        `{"instances": ${nested(depth, '1')}}`,
        `{"inputs": {"f0": ${nested(depth, '1')}}}`,
        `{"inputs": ${nested(depth, 'NaN')}}`,
      ]) {
        const reply = await server.post('/invocations', body, 'application/json');
        expect({ status: reply.status, code: reply.json?.error_code }).toEqual({
          status: 400,
          code: 'BAD_REQUEST',
        });
        expect(reply.json.message).toMatch(
          /^Invalid input\. The input nests lists or objects more than 72 levels/,
        );
      }
    const good = await server.post('/invocations', {
      dataframe_split: { columns: ['f0', 'f1', 'f2', 'f3'], data: [[1, 2, 3, 4]] },
    });
    expect(good.status).toBe(200);
  });

  test('/v2 infer with data or a shape thousands deep: 400', async () => {
    for (const body of [
      `{"inputs": [{"name": "f0", "shape": [1], "datatype": "FP32", "data": ${nested(100_000, '1')}}]}`,
      `{"inputs": [{"name": "f0", "shape": [${new Array(100_000).fill(1).join(',')}], "datatype": "FP32", "data": [1]}]}`,
    ]) {
      const reply = await server.post('/v2/models/linear/infer', body, 'application/json');
      expect(reply.status).toBe(400);
      expect(reply.text).toContain("The input 'f0' has more than 64 dimensions");
    }
  });
});
