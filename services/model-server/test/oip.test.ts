/** @jest-environment ./services/model-server/test/support/onnx-environment.cjs */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as ort from 'onnxruntime-node';
import { generateTestModels, type TestModels } from './support/models.js';
import { type RunningServer, referenceRun, slowModel, startServer } from './support/server.js';

/** A column of an MLServer-style request (`PandasCodec.encode_request` sends each column as [n, 1]). */
function column(name: string, datatype: string, data: unknown[], contentType?: string) {
  return {
    name,
    datatype,
    shape: [data.length, 1],
    data,
    ...(contentType === undefined ? {} : { parameters: { content_type: contentType } }),
  };
}

/** The rows of the classifier's columns as an `/invocations` dataframe_split body. */
function dataframeSplit(columns: Record<string, unknown[]>) {
  const names = Object.keys(columns);
  const rows = columns[names[0]!]!.map((_, row) => names.map((name) => columns[name]![row]));
  return { dataframe_split: { columns: names, data: rows } };
}

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

  test("a registered model name past 100 characters is served; a malformed path is the protocol's 400", async () => {
    const name = `team-${'x'.repeat(150)}`;
    const long = await startServer({ modelDir: models.classifier, modelName: name });
    try {
      expect((await long.get(`/v2/models/${name}/ready`)).json).toEqual({ name, ready: true });
      const inferred = await long.post(`/v2/models/${name}/infer`, {
        inputs: [
          { name: 'sepal_length', shape: [1], datatype: 'FP32', data: [5.1] },
          { name: 'petal_count', shape: [1], datatype: 'INT64', data: [3] },
        ],
      });
      expect(inferred.status).toBe(200);
      const malformed = await long.post('/v2/models/%ZZ/infer', {});
      expect(malformed.status).toBe(400);
      expect(malformed.json).toEqual({ error: "'/v2/models/%ZZ/infer' is not a valid url component" });
    } finally {
      await long.close();
    }
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

  describe('MLServer-style requests (inputs named by the signature)', () => {
    const sepal = [5.1, 0.2, 7.7];
    const petals = [3, 8, 0];
    const comments = ['first', 'second', 'third'];

    test('give the predictions of the equivalent /invocations dataframe_split request, encoded as PandasCodec does', async () => {
      const invoked = await server.post(
        '/invocations',
        dataframeSplit({ sepal_length: sepal, petal_count: petals, comment: comments }),
      );
      expect(invoked.status).toBe(200);
      const records = invoked.json.predictions as Array<{ probability: number; label: number }>;
      const expected = {
        model_name: 'iris',
        id: 'm-1',
        parameters: { content_type: 'pd' },
        outputs: [
          {
            name: 'probability',
            datatype: 'FP32',
            shape: [3, 1],
            data: records.map((record) => record.probability),
          },
          { name: 'label', datatype: 'INT64', shape: [3, 1], data: records.map((record) => record.label) },
        ],
      };
      // As mlserver's PandasCodec.encode_request sends a DataFrame: content types on the request and
      // the text column.
      const encoded = await server.post('/v2/models/iris/infer', {
        id: 'm-1',
        parameters: { content_type: 'pd' },
        inputs: [
          column('sepal_length', 'FP64', sepal),
          column('petal_count', 'INT64', petals),
          column('comment', 'BYTES', comments, 'str'),
        ],
      });
      expect(encoded.status).toBe(200);
      expect(encoded.json).toEqual(expected);
      // Without content types: named by the signature's columns (comment is no graph input), the
      // model's content type (pd) applies; flat shapes are columns too.
      const bare = await server.post('/v2/models/iris/infer', {
        id: 'm-1',
        inputs: [
          { name: 'comment', datatype: 'BYTES', shape: [3], data: comments },
          { name: 'petal_count', datatype: 'INT64', shape: [3], data: petals },
          { name: 'sepal_length', datatype: 'FP64', shape: [3], data: sepal },
        ],
      });
      expect(bare.json).toEqual(expected);
      // The optional column may be left out when the request says it is a DataFrame.
      const required = await server.post('/v2/models/iris/infer', {
        id: 'm-1',
        parameters: { content_type: 'pd' },
        inputs: [column('sepal_length', 'FP64', sepal), column('petal_count', 'INT64', petals)],
      });
      expect(required.json).toEqual(expected);
    });

    test('signature typing as /invocations: numeric text into a double column', async () => {
      const invoked = await server.post(
        '/invocations',
        dataframeSplit({ sepal_length: ['5.1', '0.2'], petal_count: [3, 8] }),
      );
      const inferred = await server.post('/v2/models/iris/infer', {
        parameters: { content_type: 'pd' },
        inputs: [column('sepal_length', 'BYTES', ['5.1', '0.2']), column('petal_count', 'INT64', [3, 8])],
      });
      expect(inferred.status).toBe(200);
      expect(inferred.json.outputs[0].data).toEqual(
        invoked.json.predictions.map((record: { probability: number }) => record.probability),
      );
    });

    test('a registered version: model_version in the answer, requested outputs only', async () => {
      const versioned = await startServer({
        modelDir: models.classifier,
        modelName: 'iris',
        modelVersion: '3',
      });
      try {
        const reply = await versioned.post('/v2/models/iris/versions/3/infer', {
          parameters: { content_type: 'pd' },
          inputs: [column('sepal_length', 'FP64', [5.1]), column('petal_count', 'INT64', [3])],
          outputs: [{ name: 'label' }],
        });
        expect(reply.status).toBe(200);
        expect(reply.json).toMatchObject({ model_name: 'iris', model_version: '3' });
        expect(reply.json.outputs.map((output: { name: string }) => output.name)).toEqual(['label']);
      } finally {
        await versioned.close();
      }
    });

    test('missing column and wrong type: 400 {"error"} with the message /invocations gives', async () => {
      const cases: Array<[object, object, RegExp]> = [
        [
          { parameters: { content_type: 'pd' }, inputs: [column('sepal_length', 'FP64', [5.1])] },
          dataframeSplit({ sepal_length: [5.1] }),
          /Model is missing inputs \['petal_count'\]/,
        ],
        [
          {
            inputs: [
              column('sepal_length', 'FP64', [5.1]),
              column('petal_count', 'BYTES', ['many']),
              column('comment', 'BYTES', ['x']),
            ],
          },
          dataframeSplit({ sepal_length: [5.1], petal_count: ['many'], comment: ['x'] }),
          /Failed to convert column petal_count to type 'int64'/,
        ],
      ];
      for (const [body, invocation, message] of cases) {
        const inferred = await server.post('/v2/models/iris/infer', body);
        expect(inferred.status).toBe(400);
        expect(Object.keys(inferred.json)).toEqual(['error']);
        expect(inferred.json.error).toMatch(message);
        const invoked = await server.post('/invocations', invocation);
        expect(inferred.json.error).toBe(invoked.json.message);
      }
    });

    test('unknown input names, mixed names, content types and codecs refused: 400 {"error"}', async () => {
      const cases: Array<[object, RegExp]> = [
        [
          {
            inputs: [
              column('sepal_length', 'FP64', [5.1]),
              column('petal_count', 'INT64', [3]),
              column('colour', 'BYTES', ['red']),
            ],
          },
          /no input named 'colour'; name them by the ONNX graph \('sepal_length', 'petal_count'\) or by the signature \('sepal_length', 'petal_count', 'comment'\)/,
        ],
        [
          { parameters: { content_type: 'pil' }, inputs: [column('sepal_length', 'FP64', [5.1])] },
          /content type 'pil'/,
        ],
        [
          { inputs: [column('comment', 'BYTES', ['x'], 'pd_json')] },
          /The input 'comment' has content type 'pd_json'/,
        ],
        [
          {
            parameters: { content_type: 'np' },
            inputs: [column('sepal_length', 'FP64', [5.1]), column('petal_count', 'INT64', [3])],
          },
          /The 'np' codec only supports a single input tensor \(2 were received\)/,
        ],
        [
          {
            parameters: { content_type: 'pd' },
            inputs: [
              { name: 'sepal_length', datatype: 'FP64', shape: [1, 2], data: [5.1, 5.2] },
              column('petal_count', 'INT64', [3]),
            ],
          },
          /one value per row/,
        ],
        [{ parameters: 'pd', inputs: [column('sepal_length', 'FP64', [5.1])] }, /must be an object/],
      ];
      for (const [body, message] of cases) {
        const reply = await server.post('/v2/models/iris/infer', body);
        expect(reply.status).toBe(400);
        expect(Object.keys(reply.json)).toEqual(['error']);
        expect(reply.json.error).toMatch(message);
      }
    });

    test('np, dict and the model without column names: tensor signatures decode as MLServer does', async () => {
      const linear = await startServer({ modelDir: models.linear });
      try {
        const rows = [
          [1, 2, 3, 4],
          [0.5, 0.25, -1, 2],
        ];
        const invoked = await linear.post('/invocations', {
          dataframe_split: { columns: ['f0', 'f1', 'f2', 'f3'], data: rows },
        });
        const columns = ['f0', 'f1', 'f2', 'f3'].map((name, at) =>
          column(
            name,
            'FP64',
            rows.map((row) => row[at]),
          ),
        );
        const reply = await linear.post('/v2/models/model/infer', { inputs: columns });
        expect(reply.status).toBe(200);
        expect(reply.json.outputs).toEqual([
          {
            name: 'y',
            datatype: 'FP32',
            shape: [2, 1],
            data: invoked.json.predictions.map((record: { y: number }) => record.y),
          },
        ]);
        // One unnamed array for a named-columns signature: as MLflow, its columns are 0..3.
        const array = await linear.post('/v2/models/model/infer', {
          parameters: { content_type: 'np' },
          inputs: [{ name: 'input-0', datatype: 'FP64', shape: [2, 4], data: rows.flat() }],
        });
        expect(array.status).toBe(400);
        expect(array.json.error).toMatch(/Model is missing inputs \['f0', 'f1', 'f2', 'f3'\]/);
        const mixed = await linear.post('/v2/models/model/infer', {
          inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: rows[0] }, columns[0]],
        });
        expect(mixed.status).toBe(400);
        expect(mixed.json.error).toMatch(/The inputs mix the ONNX graph's names and the signature's/);
      } finally {
        await linear.close();
      }
      const heavy = await startServer({ modelDir: models.heavy });
      try {
        const x = Array.from({ length: 2 * 64 }, (_, i) => Math.sin(i));
        const invoked = await heavy.post('/invocations', {
          inputs: [x.slice(0, 64), x.slice(64)],
        });
        // The unnamed tensor signature is MLServer's input-0 with the model's content type np.
        const reply = await heavy.post('/v2/models/model/infer', {
          id: 'h',
          inputs: [{ name: 'input-0', datatype: 'FP32', shape: [2, 64], data: x }],
        });
        expect(reply.status).toBe(200);
        expect(reply.json).toEqual({
          model_name: 'model',
          id: 'h',
          parameters: { content_type: 'dict' },
          outputs: [
            {
              name: 'y',
              datatype: 'FP32',
              shape: [2, 1],
              data: invoked.json.predictions.y.flat(),
              parameters: { content_type: 'np' },
            },
          ],
        });
      } finally {
        await heavy.close();
      }
    });

    test('batching: tensor-style and MLServer-style requests in one burst each get their own rows', async () => {
      const batched = await startServer({
        load: () => slowModel(models.classifier, 100),
        modelName: 'iris',
        batching: { maxBatchSize: 64, maxWaitMs: 20 },
      });
      try {
        const rows = Array.from({ length: 12 }, (_, i) => ({ sepal: 4 + i * 0.4, petals: i % 5 }));
        const outputs = await referenceRun(models.classifier, {
          sepal_length: new ort.Tensor('float32', Float32Array.from(rows.map((row) => row.sepal)), [12]),
          petal_count: new ort.Tensor(
            'int64',
            BigInt64Array.from(rows.map((row) => BigInt(row.petals))),
            [12],
          ),
        });
        const probabilities = Array.from(outputs.probability!.data as Float32Array);
        const replies = await Promise.all(
          rows.map((row, i) =>
            batched.post(
              '/v2/models/iris/infer',
              i % 2 === 0
                ? {
                    inputs: [
                      { name: 'sepal_length', shape: [1], datatype: 'FP32', data: [row.sepal] },
                      { name: 'petal_count', shape: [1], datatype: 'INT64', data: [row.petals] },
                    ],
                  }
                : {
                    parameters: { content_type: 'pd' },
                    inputs: [
                      column('sepal_length', 'FP64', [row.sepal]),
                      column('petal_count', 'INT64', [row.petals]),
                    ],
                  },
            ),
          ),
        );
        for (const [i, reply] of replies.entries()) {
          expect(reply.status).toBe(200);
          expect(reply.json.outputs[0].shape).toEqual(i % 2 === 0 ? [1] : [1, 1]);
          expect(reply.json.outputs[0].data).toEqual([probabilities[i]]);
        }
        const metrics = (await batched.get('/metrics')).text;
        const calls = Number(/^mast_model_batch_rows_count (\S+)$/m.exec(metrics)?.[1]);
        expect(calls).toBeLessThan(rows.length);
      } finally {
        await batched.close();
      }
    });
  });
});
