import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import { AJAX, API, createExperiment, createRunId, DOCS_HINT, expectError, uniqueName } from './fixtures.js';
import { startTrackingServer, type TrackingServer } from './harness.js';

/** Values no field expects, in JSON: wrong types, empty, huge, NUL, numeric edge cases, injection text. */
const BAD_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  1e300,
  '',
  ' ',
  'x'.repeat(70_000),
  'NaN',
  '-Infinity',
  '99999999999999999999',
  'a\u0000b',
  "'; drop table tracking.runs; --",
  '../..',
  {},
  { key: 'k' },
  [],
  ['x'],
  [{}],
  [null],
  [[1]],
];

/** Raw bodies that are not what any RPC expects. */
const BAD_BODIES = [
  '{bad',
  '',
  'null',
  '[]',
  '"text"',
  '123',
  'NaN',
  '{"a": NaN, "b": -Infinity}',
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  '{"__proto__": {"run_id": "x"}, "constructor": {"prototype": 1}}',
  JSON.stringify(JSON.stringify('{"still": "text"}')),
  '\u0000',
];

type Body = Record<string, any>;

interface Endpoint {
  path: string;
  /** A valid body to mutate one field at a time. */
  body: () => Body;
  /** Field paths to mutate: a top-level name or a path into a list item. */
  fields: Array<string | Array<string | number>>;
}

function withValue(body: Body, path: Array<string | number>, value: unknown): Body {
  const copy = structuredClone(body);
  let target: any = copy;
  for (const step of path.slice(0, -1)) target = target[step];
  target[path[path.length - 1]!] = value;
  return copy;
}

/**
 * No input may cause a 500: every POST RPC gets malformed bodies and, starting from a valid body, each
 * field replaced by each bad value; GET RPCs get bad query values. Every answer must be < 500 and, when
 * it is an error, MLflow's `{error_code, message}` body.
 */
describe.each(BACKENDS)('bad input never causes a 500 (%s)', (backend) => {
  let server: TrackingServer;
  let experimentId: string;
  let runId: string;
  let endpoints: Endpoint[];

  beforeAll(async () => {
    server = await startTrackingServer(backend);
    const http = server.client;
    experimentId = await createExperiment(http);
    runId = await createRunId(http, experimentId);
    await http.post(`${API}/runs/log-batch`, {
      run_id: runId,
      metrics: [{ key: 'm', value: 1, timestamp: 1, step: 0 }],
      params: [{ key: 'p', value: 'v' }],
      tags: [{ key: 't', value: 'v' }],
    });
    const metric = { key: 'm', value: 2, timestamp: 3, step: 4 };
    const model = { artifact_path: 'a', flavors: {}, utc_time_created: 'now', run_id: 'r' };
    const dataset = {
      name: 'd',
      digest: 'x',
      source_type: 'local',
      source: '{}',
      schema: '{}',
      profile: '{}',
    };
    endpoints = [
      {
        path: '/experiments/create',
        body: () => ({
          name: uniqueName('fuzz'),
          artifact_location: 's3://b/p',
          tags: [{ key: 'k', value: 'v' }],
        }),
        fields: ['name', 'artifact_location', 'tags', ['tags', 0, 'key'], ['tags', 0, 'value']],
      },
      {
        path: '/experiments/search',
        body: () => ({
          max_results: 5,
          page_token: '',
          filter: "name LIKE 'fuzz%'",
          order_by: ['name DESC'],
          view_type: 'ALL',
        }),
        fields: ['max_results', 'page_token', 'filter', 'order_by', 'view_type'],
      },
      { path: '/experiments/delete', body: () => ({ experiment_id: '424242' }), fields: ['experiment_id'] },
      { path: '/experiments/restore', body: () => ({ experiment_id: '424242' }), fields: ['experiment_id'] },
      {
        path: '/experiments/update',
        body: () => ({ experiment_id: experimentId, new_name: uniqueName('fuzz-renamed') }),
        fields: ['experiment_id', 'new_name'],
      },
      {
        path: '/experiments/set-experiment-tag',
        body: () => ({ experiment_id: experimentId, key: 'k', value: 'v' }),
        fields: ['experiment_id', 'key', 'value'],
      },
      {
        path: '/experiments/delete-experiment-tag',
        body: () => ({ experiment_id: experimentId, key: 'k' }),
        fields: ['experiment_id', 'key'],
      },
      {
        path: '/runs/create',
        body: () => ({
          experiment_id: experimentId,
          user_id: 'u',
          run_name: 'n',
          start_time: 1,
          tags: [{ key: 'k', value: 'v' }],
        }),
        fields: [
          'experiment_id',
          'user_id',
          'run_name',
          'start_time',
          'tags',
          ['tags', 0, 'key'],
          ['tags', 0, 'value'],
        ],
      },
      {
        path: '/runs/update',
        body: () => ({ run_id: runId, status: 'RUNNING', end_time: 5, run_name: 'n' }),
        fields: ['run_id', 'run_uuid', 'status', 'end_time', 'run_name'],
      },
      { path: '/runs/delete', body: () => ({ run_id: 'f'.repeat(32) }), fields: ['run_id'] },
      { path: '/runs/restore', body: () => ({ run_id: runId }), fields: ['run_id'] },
      {
        path: '/runs/log-metric',
        body: () => ({ run_id: runId, ...metric }),
        fields: [
          'run_id',
          'run_uuid',
          'key',
          'value',
          'timestamp',
          'step',
          'model_id',
          'dataset_name',
          'dataset_digest',
        ],
      },
      {
        path: '/runs/log-parameter',
        body: () => ({ run_id: runId, key: 'p', value: 'v' }),
        fields: ['run_id', 'key', 'value'],
      },
      {
        path: '/runs/set-tag',
        body: () => ({ run_id: runId, key: 't', value: 'v' }),
        fields: ['run_id', 'key', 'value'],
      },
      { path: '/runs/delete-tag', body: () => ({ run_id: runId, key: 'nope' }), fields: ['run_id', 'key'] },
      {
        path: '/runs/log-batch',
        body: () => ({
          run_id: runId,
          metrics: [metric],
          params: [{ key: 'p', value: 'v' }],
          tags: [{ key: 't', value: 'v' }],
        }),
        fields: [
          'run_id',
          'metrics',
          'params',
          'tags',
          ['metrics', 0, 'key'],
          ['metrics', 0, 'value'],
          ['metrics', 0, 'timestamp'],
          ['metrics', 0, 'step'],
          ['params', 0, 'key'],
          ['params', 0, 'value'],
          ['tags', 0, 'key'],
          ['tags', 0, 'value'],
        ],
      },
      {
        path: '/runs/log-model',
        body: () => ({ run_id: runId, model_json: JSON.stringify(model) }),
        fields: ['run_id', 'model_json'],
      },
      {
        path: '/runs/log-inputs',
        body: () => ({
          run_id: runId,
          datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'train' }], dataset: { ...dataset } }],
          models: [{ model_id: 'm-1' }],
        }),
        fields: [
          'run_id',
          'datasets',
          'models',
          ['datasets', 0, 'tags'],
          ['datasets', 0, 'dataset'],
          ['datasets', 0, 'tags', 0, 'key'],
          ['datasets', 0, 'tags', 0, 'value'],
          ...['name', 'digest', 'source_type', 'source', 'schema', 'profile'].map((f) => [
            'datasets',
            0,
            'dataset',
            f,
          ]),
          ['models', 0, 'model_id'],
        ],
      },
      {
        path: '/runs/outputs',
        body: () => ({ run_id: runId, models: [{ model_id: 'm-1', step: 1 }] }),
        fields: ['run_id', 'models', ['models', 0, 'model_id'], ['models', 0, 'step']],
      },
      {
        path: '/runs/search',
        body: () => ({
          experiment_ids: [experimentId],
          filter: "params.p = 'v'",
          run_view_type: 'ALL',
          max_results: 5,
          order_by: ['metrics.m DESC'],
          page_token: '',
        }),
        fields: ['experiment_ids', 'filter', 'run_view_type', 'max_results', 'order_by', 'page_token'],
      },
      {
        path: '/experiments/search-datasets',
        body: () => ({ experiment_ids: [experimentId] }),
        fields: ['experiment_ids', ['experiment_ids', 0]],
      },
    ];
  });
  afterAll(async () => server.close());

  /** Describes a response that breaks the contract, or undefined when it is fine. */
  function violation(response: { status: number; body: any }): string | undefined {
    if (response.status >= 500) return `status ${response.status}: ${JSON.stringify(response.body)}`;
    if (response.status >= 400) {
      const body = response.body;
      if (typeof body?.error_code !== 'string' || typeof body?.message !== 'string') {
        return `status ${response.status} without {error_code, message}`;
      }
    } else if (typeof response.body !== 'object' || response.body === null || Array.isArray(response.body)) {
      return `status ${response.status} with a non-object body`;
    }
    return undefined;
  }

  test('malformed raw bodies on every POST RPC', async () => {
    const failures: string[] = [];
    for (const { path } of endpoints) {
      for (const body of BAD_BODIES) {
        const response = await server.client.request('POST', `${API}${path}`, body, {
          'content-type': 'application/json',
        });
        const problem = violation(response);
        if (problem) failures.push(`${path} ${JSON.stringify(body.slice(0, 40))}: ${problem}`);
      }
    }
    expect(failures).toEqual([]);
  });

  test('every field of every POST RPC replaced by each bad value', async () => {
    const failures: string[] = [];
    for (const endpoint of endpoints) {
      for (const field of endpoint.fields) {
        const path = typeof field === 'string' ? [field] : field;
        // The bad values of one field go out concurrently: concurrent requests must not 500 either.
        const responses = await Promise.all(
          BAD_VALUES.map((value) =>
            server.client.post(`${API}${endpoint.path}`, withValue(endpoint.body(), path, value)),
          ),
        );
        responses.forEach((response, i) => {
          const problem = violation(response);
          if (problem) {
            const value = JSON.stringify(BAD_VALUES[i])?.slice(0, 40);
            failures.push(`${endpoint.path} ${path.join('.')}=${value}: ${problem}`);
          }
        });
      }
    }
    expect(failures).toEqual([]);
  });

  test('bad query values on every GET RPC', async () => {
    // Node answers 431 (no JSON) above 16 KB of request line and headers, so long values stay below that.
    const values = [
      '',
      ' ',
      'x'.repeat(3_000),
      '-1',
      '1.5',
      '1e999',
      'NaN',
      '99999999999999999999',
      '%',
      "'",
      '\u0000',
    ];
    const gets: Array<[string, Record<string, string>]> = [
      [`${API}/experiments/get`, { experiment_id: experimentId }],
      [`${API}/experiments/get-by-name`, { experiment_name: 'Default' }],
      [
        `${API}/experiments/search`,
        { max_results: '5', filter: "name = 'x'", order_by: 'name', view_type: 'ALL' },
      ],
      [`${API}/runs/get`, { run_id: runId }],
      [`${API}/metrics/get-history`, { run_id: runId, metric_key: 'm', max_results: '5', page_token: '' }],
      [
        `${API}/metrics/get-history-bulk-interval`,
        { run_ids: runId, metric_key: 'm', start_step: '0', end_step: '5', max_results: '5' },
      ],
      [`${AJAX}/metrics/get-history-bulk`, { run_id: runId, metric_key: 'm', max_results: '5' }],
    ];
    const failures: string[] = [];
    for (const [path, query] of gets) {
      for (const name of Object.keys(query)) {
        for (const value of values) {
          for (const variant of [value, [value, value]]) {
            const response = await server.client.get(path, { ...query, [name]: variant });
            const problem = violation(response);
            if (problem) failures.push(`${path} ${name}=${JSON.stringify(variant).slice(0, 40)}: ${problem}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });

  test('oversized searches are 400s, not database errors', async () => {
    const http = server.client;
    const many = (n: number, item: (i: number) => string) => Array.from({ length: n }, (_, i) => item(i));
    const runIds = many(70_000, (i) => `'r${i}'`).join(', ');
    // IN lists and experiment id lists of any length are bound as one parameter.
    for (const filter of [`attributes.run_id IN (${runIds})`, `datasets.name NOT IN (${runIds})`]) {
      const response = await http.post(`${API}/runs/search`, { experiment_ids: [experimentId], filter });
      expect(response.status).toBe(200);
    }
    const ids = many(70_000, (i) => String(i));
    const manyExperiments = await http.post(`${API}/runs/search`, { experiment_ids: ids });
    expect(manyExperiments.status).toBe(200);
    expect(manyExperiments.body.runs.map((r: any) => r.info.run_id)).toContain(runId);
    // Sort keys and comparisons are bounded.
    expectError(
      await http.post(`${API}/runs/search`, {
        experiment_ids: [experimentId],
        order_by: many(1000, (i) => `metrics.k${i}`),
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      /order_by can contain at most 100 clauses/,
    );
    expect(
      (
        await http.post(`${API}/runs/search`, {
          experiment_ids: [experimentId],
          order_by: many(100, (i) => `metrics.k${i}`),
        })
      ).status,
    ).toBe(200);
    expectError(
      await http.post(`${API}/experiments/search`, { order_by: many(101, () => 'name') }),
      400,
      'INVALID_PARAMETER_VALUE',
      /order_by/,
    );
    for (const joiner of [' AND ', ' OR ']) {
      expectError(
        await http.post(`${API}/runs/search`, {
          experiment_ids: [experimentId],
          filter: many(40_000, (i) => `metrics.k${i} > 1`).join(joiner),
        }),
        400,
        'INVALID_PARAMETER_VALUE',
        /at most 100 comparisons/,
      );
    }
    expectError(
      await http.post(`${API}/experiments/search`, {
        filter: many(101, (i) => `tags.t${i} = 'x'`).join(' and '),
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      /at most 100 comparisons/,
    );
    expectError(
      await http.post(`${API}/runs/search`, {
        experiment_ids: [experimentId],
        filter: `${'('.repeat(5000)}`,
      }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
  });
});

/**
 * MLflow's own wire checks (tests/tracking/test_rest_tracking.py `test_*_validation`): a field of the
 * wrong type is named with its value as `json.dumps` prints it (`"5"`, not `'5'`), and bad run ids and
 * negative metric timestamps get `validation.invalid_value`'s wording.
 */
describe.each(BACKENDS)("MLflow's invalid-value messages (%s)", (backend) => {
  let server: TrackingServer;
  let runId: string;

  beforeAll(async () => {
    server = await startTrackingServer(backend);
    runId = await createRunId(server.client, await createExperiment(server.client));
  });
  afterAll(() => server.close());

  test('wrong types quote strings as JSON and keep the type hint', async () => {
    const http = server.client;
    const cases: Array<[string, Body, string]> = [
      [
        '/experiments/create',
        { name: 123 },
        "Invalid value 123 for parameter 'name' supplied:  Hint: Value was of type 'int'.",
      ],
      [
        '/experiments/create',
        { name: uniqueName('v'), artifact_location: 'loc', tags: '5' },
        `Invalid value "5" for parameter 'tags' supplied:  Hint: Value was of type 'str'.`,
      ],
      [
        '/runs/log-metric',
        { run_id: runId, key: 'foo', value: 31, timestamp: 59, step: 'foo' },
        `Invalid value "foo" for parameter 'step' supplied:  Hint: Value was of type 'str'.`,
      ],
      [
        '/runs/log-metric',
        { run_id: runId, key: 'foo', value: 31, timestamp: 'foo', step: 41 },
        `Invalid value "foo" for parameter 'timestamp' supplied:  Hint: Value was of type 'str'.`,
      ],
      [
        '/runs/log-parameter',
        { run_id: runId, key: 'k', value: { b: 1, a: 'é' } },
        `Invalid value {"a":"\\u00e9","b":1} for parameter 'value' supplied:  Hint: Value was of type 'dict'.`,
      ],
    ];
    for (const [path, body, message] of cases) {
      expectError(
        await http.post(`${API}${path}`, body),
        400,
        'INVALID_PARAMETER_VALUE',
        `${message}${DOCS_HINT}`,
      );
    }
  });

  test('bad run ids and negative timestamps use validation.invalid_value', async () => {
    const http = server.client;
    expectError(
      await http.post(`${API}/runs/log-batch`, { run_id: 'bad id!' }),
      400,
      'INVALID_PARAMETER_VALUE',
      `Invalid value "bad id!" for parameter 'run_id' supplied.`,
    );
    expectError(
      await http.post(`${API}/runs/log-batch`, {
        run_id: runId,
        metrics: [{ key: 'm', value: 2, timestamp: -1 }],
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Invalid value -1 for parameter 'metrics[0].timestamp' supplied: metric 'm' (value=2.0). Timestamp must be a nonnegative long (64-bit integer) ",
    );
  });
});
