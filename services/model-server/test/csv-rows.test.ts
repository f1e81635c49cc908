/** @jest-environment ./services/model-server/test/support/onnx-environment.cjs */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { generateTestModels } from './support/models.js';
import { type RunningServer, startServer } from './support/server.js';

/**
 * CSV rows of another length than the header, over HTTP, as MLflow's scoring server reads them with
 * pandas' `read_csv`: a short row is scored with NaN in its missing cells, `to_csv()`'s index column
 * is dropped (an integer column cannot be NaN: read_csv's ValueError), a longer row is pandas'
 * ParserError; the next good request is served normally.
 */

let server: RunningServer;
let classifier: RunningServer;
beforeAll(async () => {
  const models = await generateTestModels();
  server = await startServer({ modelDir: models.linear });
  classifier = await startServer({ modelDir: models.classifier });
});
afterAll(async () => {
  await Promise.all([server.close(), classifier.close()]);
});

describe('CSV rows of another length than the header', () => {
  test('a short row is scored with NaN for its missing cells', async () => {
    const reply = await server.post('/invocations', 'f0,f1,f2,f3\n1,2,3,4\n1,2,3\n', 'text/csv');
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('{"predictions":[{"y":7.099999904632568},{"y":NaN}]}');
  });

  test("pandas' implicit index (to_csv() with its index) is dropped", async () => {
    const reply = await server.post('/invocations', ',f0,f1,f2,f3\n0,1,2,3,4\n', 'text/csv');
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ predictions: [{ y: 7.099999904632568 }] });
    const implicit = await server.post('/invocations', 'f0,f1,f2,f3\n0,1,2,3,4\n', 'text/csv');
    expect(implicit.json).toEqual(reply.json);
  });

  test("a short row missing an integer column's cell: read_csv's ValueError for that column", async () => {
    const reply = await classifier.post(
      '/invocations',
      'sepal_length,petal_count,comment\n5.1\n',
      'text/csv',
    );
    expect(reply.status).toBe(400);
    expect(reply.json.message).toMatch(/Error: 'Integer column has NA values in column 1'$/);
    expect(reply.json.stack_trace).toBe('ValueError: Integer column has NA values in column 1');
  });

  test("a longer row: 400 with pandas' ParserError, then a good request is served", async () => {
    const reply = await server.post('/invocations', 'f0,f1,f2,f3\n1,2,3,4\n1,2,3,4,5\n', 'text/csv');
    expect(reply.status).toBe(400);
    expect(reply.json.error_code).toBe('BAD_REQUEST');
    expect(reply.json.message).toContain(
      "Error: 'Error tokenizing data. C error: Expected 4 fields in line 3, saw 5\n'",
    );
    expect(reply.json.stack_trace).toBe(
      'pandas.errors.ParserError: Error tokenizing data. C error: Expected 4 fields in line 3, saw 5\n',
    );
    const next = await server.post('/invocations', 'f0,f1,f2,f3\n1,2,3,4\n', 'text/csv');
    expect(next.json).toEqual({ predictions: [{ y: 7.099999904632568 }] });
  });
});
