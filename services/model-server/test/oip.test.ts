/** @jest-environment ./services/model-server/test/support/onnx-environment.cjs */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as ort from 'onnxruntime-node';
import { generateTestModels, type TestModels } from './support/models.js';
import { type RunningServer, referenceRun, startServer } from './support/server.js';

/** The Open Inference Protocol v2 REST routes (KServe/Triton clients) over real HTTP. */
describe('Open Inference Protocol v2', () => {
  let models: TestModels;
  let server: RunningServer;
  beforeAll(async () => {
    models = await generateTestModels();
    server = await startServer({ modelDir: models.classifier, modelName: 'iris' });
  });
  afterAll(async () => server.close());

  test('health, server and model readiness', async () => {
    expect((await server.get('/v2/health/live')).json).toEqual({ live: true });
    const ready = await server.get('/v2/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.json).toEqual({ ready: true });
    expect((await server.get('/v2/models/iris/ready')).json).toEqual({ name: 'iris', ready: true });
    expect((await server.get('/v2')).json.extensions).toEqual([]);
  });

  test('model metadata from the ONNX graph', async () => {
    const reply = await server.get('/v2/models/iris');
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({
      name: 'iris',
      versions: [],
      platform: 'onnxruntime_onnx',
      inputs: [
        { name: 'sepal_length', datatype: 'FP32', shape: [-1] },
        { name: 'petal_count', datatype: 'INT64', shape: [-1] },
      ],
      outputs: [
        { name: 'probability', datatype: 'FP32', shape: [-1] },
        { name: 'label', datatype: 'INT64', shape: [-1] },
      ],
    });
  });

  test('infer: outputs equal onnxruntime, requested outputs only (also under /versions/{v}), id echoed', async () => {
    const sepal = [5.1, 0.2, 7.7];
    const petals = [3, 8, 0];
    const outputs = await referenceRun(models.classifier, {
      sepal_length: new ort.Tensor('float32', Float32Array.from(sepal), [3]),
      petal_count: new ort.Tensor('int64', BigInt64Array.from(petals.map(BigInt)), [3]),
    });
    const body = {
      id: 'r-1',
      inputs: [
        { name: 'sepal_length', shape: [3], datatype: 'FP32', data: sepal },
        { name: 'petal_count', shape: [3], datatype: 'INT64', data: petals },
      ],
    };
    const all = await server.post('/v2/models/iris/infer', body);
    expect(all.status).toBe(200);
    expect(all.json).toEqual({
      model_name: 'iris',
      id: 'r-1',
      outputs: [
        {
          name: 'probability',
          datatype: 'FP32',
          shape: [3],
          data: Array.from(outputs.probability!.data as Float32Array),
        },
        {
          name: 'label',
          datatype: 'INT64',
          shape: [3],
          data: Array.from(outputs.label!.data as BigInt64Array, Number),
        },
      ],
    });
    const one = await server.post('/v2/models/iris/versions/3/infer', {
      ...body,
      outputs: [{ name: 'label' }],
    });
    expect(one.json.outputs.map((output: any) => output.name)).toEqual(['label']);
  });

  test('a registered version served: listed in the metadata, the only version its routes answer for', async () => {
    const versioned = await startServer({
      modelDir: models.classifier,
      modelName: 'iris',
      modelVersion: '3',
    });
    try {
      expect((await versioned.get('/v2/models/iris')).json.versions).toEqual(['3']);
      const inferred = await versioned.post('/v2/models/iris/versions/3/infer', {
        id: 'q',
        inputs: [
          { name: 'sepal_length', shape: [1], datatype: 'FP32', data: [5.1] },
          { name: 'petal_count', shape: [1], datatype: 'INT64', data: [3] },
        ],
      });
      expect(inferred.status).toBe(200);
      expect(inferred.json).toMatchObject({ model_name: 'iris', model_version: '3', id: 'q' });
      expect((await versioned.get('/v2/models/iris/versions/3/ready')).json).toEqual({
        name: 'iris',
        ready: true,
      });
      const other = await versioned.get('/v2/models/iris/versions/4');
      expect(other.status).toBe(404);
      expect(other.json.error).toMatch(/Version 4 of model 'iris' is not served here/);
    } finally {
      await versioned.close();
    }
  });

  test('errors: {"error": ...} with 400 or 404', async () => {
    const cases: Array<[string, object, number, RegExp]> = [
      ['/v2/models/other/infer', { inputs: [] }, 404, /Model 'other' is not served here/],
      ['/v2/models/iris/infer', { inputs: [] }, 400, /'inputs' must be a non-empty list/],
      [
        '/v2/models/iris/infer',
        { inputs: [{ name: 'sepal_length', shape: [2], datatype: 'FP32', data: [1] }] },
        400,
        /has 1 elements in 'data' but shape \[2\] needs 2/,
      ],
      [
        '/v2/models/iris/infer',
        { inputs: [{ name: 'sepal_length', shape: [1], datatype: 'FP99', data: [1] }] },
        400,
        /datatype "FP99"/,
      ],
      [
        '/v2/models/iris/infer',
        { inputs: [{ name: 'sepal_length', shape: [1], datatype: 'FP32', data: [1] }] },
        400,
        /input 'petal_count' is missing/,
      ],
      [
        '/v2/models/iris/infer',
        { inputs: [{ name: 'petal_count', shape: [1], datatype: 'INT64', data: [1.5] }] },
        400,
        /not INT64/,
      ],
    ];
    for (const [path, body, status, message] of cases) {
      const reply = await server.post(path, body);
      expect(reply.status).toBe(status);
      expect(Object.keys(reply.json)).toEqual(['error']);
      expect(reply.json.error).toMatch(message);
    }
    const malformed = await server.post('/v2/models/iris/infer', '{"inputs": [');
    expect(malformed.status).toBe(400);
    expect(malformed.json.error).toMatch(/not valid JSON/);
  });
});
