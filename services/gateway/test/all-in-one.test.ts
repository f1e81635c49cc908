import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { buildASTSchema, isEnumType, isInputObjectType, isObjectType, parse } from 'graphql';
import { COMMITTED_SUPERGRAPH, composeSupergraph } from '../src/graphql/supergraph.js';
import { SERVICES } from '../src/services.js';
import { useAllInOne } from './harness.js';

describe('mast server (all-in-one)', () => {
  const mast = useAllInOne({ name: 'mast-all-in-one-' });

  test('serves the MLflow REST API and /graphql on one port', async () => {
    const rest = await mast.http.get('/api/2.0/mlflow/experiments/get-by-name', {
      experiment_name: 'Default',
    });
    expect(rest.status).toBe(200);
    expect(rest.body.experiment.experiment_id).toBe('0');
    const { experiment } = await mast.graphql.data(`{ experiment(id: "0") { name runCount } }`);
    expect(experiment).toEqual({ name: 'Default', runCount: 0 });
    const info = await mast.http.get('/api/3.0/mlflow/server-info');
    expect(info.status).toBe(200);
    expect((await mast.http.get('/health')).text).toBe('OK');
  });

  test('a run logs an artifact through the proxy and lists it, as log_artifact and list_artifacts do', async () => {
    const run = (await mast.http.post('/api/2.0/mlflow/runs/create', { experiment_id: '0' })).body.run.info;
    const path = run.artifact_uri.replace('mlflow-artifacts:/', '');
    const upload = await mast.http.request(
      'PUT',
      `/api/2.0/mlflow-artifacts/artifacts/${path}/model/MLmodel`,
      'flavors: {}\n',
      {
        'content-type': 'text/plain',
      },
    );
    expect(upload.status).toBe(200);
    const listed = await mast.http.get('/api/2.0/mlflow/artifacts/list', {
      run_id: run.run_id,
      path: 'model',
    });
    expect(listed.body).toEqual({
      root_uri: run.artifact_uri,
      files: [{ path: 'model/MLmodel', is_dir: false, file_size: 12 }],
    });
    const download = await mast.http.get(`/api/2.0/mlflow-artifacts/artifacts/${path}/model/MLmodel`);
    expect(download.text).toBe('flavors: {}\n');
  });
});

describe('generated files', () => {
  test('the committed supergraph is the composition of the current subgraph SDL', () => {
    const committed = readFileSync(COMMITTED_SUPERGRAPH, 'utf8');
    const composed = composeSupergraph(
      SERVICES.flatMap(({ subgraph }) =>
        subgraph === undefined
          ? []
          : [
              {
                name: subgraph.name,
                typeDefs: subgraph.typeDefs(),
                url: `http://${subgraph.name}:5000/graphql`,
              },
            ],
      ),
    );
    // The same document, whatever the formatting (Biome formats the committed file).
    const normalized = (sdl: string) =>
      JSON.stringify(parse(sdl, { noLocation: true }), (key, value) => (key === 'block' ? undefined : value));
    expect(normalized(committed)).toBe(normalized(composed));
  });

  test('every type, field, argument and enum value of the API schema is described', () => {
    const text = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
    const schema = buildASTSchema(parse(text));
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name))
        continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : []) {
            if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
          }
        }
      }
      if (isEnumType(type)) {
        for (const value of type.getValues())
          if (!value.description) missing.push(`${type.name}.${value.name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
