import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import { API, createModel, createVersion, DOCS_HINT, expectError, patch, uniqueName } from './fixtures.js';
import { type RegistryServer, startRegistryServer } from './harness.js';

const SURROGATE_HINT = 'Strings must be valid Unicode (an unpaired surrogate).';

/** Request bodies MLflow's JSON and protobuf parsers refuse: each a 400 in MLflow's error format. */
describe.each(BACKENDS)('JSON bodies of the wrong shape or encoding (%s)', (backend) => {
  let server: RegistryServer;
  let model: string;
  beforeAll(async () => {
    server = await startRegistryServer(backend);
    model = (await createModel(server.client)).name;
    await createVersion(server.client, model);
  });
  afterAll(async () => server.close());

  const post = (path: string, body: string) => server.client.post(`${API}${path}`, body);
  const getModel = async (name: string) => server.client.get(`${API}/registered-models/get`, { name });

  test('a list where a string is expected: INVALID_PARAMETER_VALUE as MLflow words it, nothing created', async () => {
    const [m1, m2] = [uniqueName('m1'), uniqueName('m2')];
    expectError(
      await server.client.post(`${API}/registered-models/create`, { name: [m1, m2] }),
      400,
      'INVALID_PARAMETER_VALUE',
      `Invalid value ["${m1}","${m2}"] for parameter 'name' supplied:  Hint: Value was of type 'list'.${DOCS_HINT}`,
    );
    expectError(await getModel(m2), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(
      await server.client.post(`${API}/registered-models/set-tag`, {
        name: model,
        key: ['a', 'k'],
        value: 'v',
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      /parameter 'key' supplied: {2}Hint: Value was of type 'list'\./,
    );
    expect((await getModel(model)).body.registered_model.tags).toBeUndefined();
  });

  test('values nested thousands deep: INVALID_PARAMETER_VALUE, never a 500', async () => {
    for (const depth of [1000, 5000, 100_000]) {
      const deep = `${'['.repeat(depth)}"x"${']'.repeat(depth)}`;
      expectError(
        await post('/registered-models/create', `{"name": ${deep}}`),
        400,
        'INVALID_PARAMETER_VALUE',
        /^Invalid value \[{32}\[\.\.\.\]{33} for parameter 'name' supplied:/,
      );
      expectError(
        await post(
          '/model-versions/set-tag',
          `{"name": "${model}", "version": "1", "key": "k", "value": ${deep}}`,
        ),
        400,
        'INVALID_PARAMETER_VALUE',
        /'value'/,
      );
    }
  });

  test('a string with an unpaired surrogate in any field: INVALID_PARAMETER_VALUE, never a 500', async () => {
    const name = uniqueName('sur');
    expectError(
      await post('/registered-models/create', '{"name": "a\\ud800b"}'),
      400,
      'INVALID_PARAMETER_VALUE',
      `Invalid value "a\\ud800b" for parameter 'name' supplied: ${SURROGATE_HINT}${DOCS_HINT}`,
    );
    for (const [path, body, field] of [
      ['/registered-models/create', `{"name": "${name}", "description": "\\udc00"}`, 'description'],
      [
        '/registered-models/create',
        `{"name": "${name}", "tags": [{"key": "k", "value": "\\ud800"}]}`,
        'tags[0].value',
      ],
      ['/registered-models/set-tag', `{"name": "${model}", "key": "k", "value": "x\\ud800"}`, 'value'],
      [
        '/model-versions/set-tag',
        `{"name": "${model}", "version": "1", "key": "\\udbff", "value": "v"}`,
        'key',
      ],
      [
        '/model-versions/create',
        `{"name": "${model}", "source": "s", "description": "\\ud800"}`,
        'description',
      ],
    ] as const)
      expectError(
        await post(path, body),
        400,
        'INVALID_PARAMETER_VALUE',
        new RegExp(`'${field.replace(/[[\]]/g, '\\$&')}'`),
      );
    expectError(
      await patch(
        server.client,
        `${API}/registered-models/update`,
        `{"name": "${model}", "description": "\\ud800"}`,
      ),
      400,
      'INVALID_PARAMETER_VALUE',
      /'description'/,
    );
    expectError(await getModel(name), 404, 'RESOURCE_DOES_NOT_EXIST');
    const kept = (await getModel(model)).body.registered_model;
    expect({ tags: kept.tags, description: kept.description, versions: kept.latest_versions.length }).toEqual(
      {
        tags: undefined,
        description: undefined,
        versions: 1,
      },
    );
  });

  test('bytes that are not UTF-8: INVALID_PARAMETER_VALUE, nothing stored with U+FFFD', async () => {
    const name = uniqueName('bad');
    const bytes = Buffer.concat([
      Buffer.from(`{"name":"${name}`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('utf"}'),
    ]);
    const response = await fetch(`${server.client.baseUrl}${API}/registered-models/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: bytes,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: `Malformed JSON request body: it is not valid UTF-8.${DOCS_HINT}`,
    });
    expectError(await getModel(`${name}\ufffd\ufffdutf`), 404, 'RESOURCE_DOES_NOT_EXIST');
  });
});
