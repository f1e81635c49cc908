import { describe, expect, test } from '@jest/globals';
import { MlModelError, parseMlModel, parseParamSchema, parseSchema } from './index.js';

const SKLEARN_MLMODEL = `artifact_path: model
databricks_runtime: 15.4.x-cpu-ml-scala2.12
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.10.12
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.3.0
is_signature_from_type_hint: false
metadata:
  owner: team-a
mlflow_version: 2.18.0
model_size_bytes: 1234
model_uuid: 4d0f8c2c1c9c4e0e9b3a7a1f2e5d6c7b
prompts:
- prompts:/greeting/1
run_id: 8f3e2b6c5a4d4f3e9a1b2c3d4e5f6a7b
saved_input_example_info:
  artifact_path: input_example.json
  pandas_orient: split
  serving_input_path: serving_input_example.json
  type: dataframe
signature:
  inputs: '[{"type": "double", "name": "sepal_length", "required": true}, {"type": "string", "name": "kind", "required": false}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]'
  params: '[{"name": "temperature", "type": "double", "default": 0.7, "shape": null}]'
type_hint_from_example: false
utc_time_created: '2024-05-01 10:20:30.123456'
some_future_field:
  nested: [1, 2]
`;

describe('parseMlModel (spec 4.2)', () => {
  test('reads every top-level field and keeps unknown keys', () => {
    const model = parseMlModel(SKLEARN_MLMODEL);
    expect(model.artifact_path).toBe('model');
    expect(Object.keys(model.flavors)).toEqual(['python_function', 'sklearn']);
    expect(model.flavors.sklearn!.pickled_model).toBe('model.pkl');
    expect(model.run_id).toBe('8f3e2b6c5a4d4f3e9a1b2c3d4e5f6a7b');
    expect(model.model_uuid).toBe('4d0f8c2c1c9c4e0e9b3a7a1f2e5d6c7b');
    expect(model.mlflow_version).toBe('2.18.0');
    expect(model.utc_time_created).toBe('2024-05-01 10:20:30.123456');
    expect(model.databricks_runtime).toBe('15.4.x-cpu-ml-scala2.12');
    expect(model.metadata).toEqual({ owner: 'team-a' });
    expect(model.model_size_bytes).toBe(1234);
    expect(model.prompts).toEqual(['prompts:/greeting/1']);
    expect(model.is_signature_from_type_hint).toBe(false);
    expect(model.saved_input_example_info).toEqual({
      artifact_path: 'input_example.json',
      pandas_orient: 'split',
      serving_input_path: 'serving_input_example.json',
      type: 'dataframe',
    });
    expect(model.extra).toEqual({ some_future_field: { nested: [1, 2] } });
  });

  test('parses the signature JSON strings', () => {
    const { signature } = parseMlModel(SKLEARN_MLMODEL);
    expect(signature?.inputs).toEqual({
      kind: 'columns',
      columns: [
        { name: 'sepal_length', type: 'double', required: true },
        { name: 'kind', type: 'string', required: false },
      ],
    });
    expect(signature?.outputs).toEqual({ kind: 'tensors', tensors: [{ dtype: 'float64', shape: [-1] }] });
    expect(signature?.params).toEqual([{ name: 'temperature', type: 'double', default: 0.7, shape: null }]);
  });

  test('a minimal MLmodel: model_uuid and mlflow_version default to null, absent fields are absent', () => {
    const model = parseMlModel('flavors:\n  onnx:\n    data: model.onnx\n');
    expect(model).toEqual({
      flavors: { onnx: { data: 'model.onnx' } },
      model_uuid: null,
      mlflow_version: null,
      extra: {},
    });
  });

  test.each([
    ['flavors: [', /invalid YAML/],
    ['- a\n- b\n', /expected a YAML mapping/],
    ['run_id: x\n', /'flavors' must be a non-empty mapping/],
    ['flavors: {}\n', /'flavors' must be a non-empty mapping/],
    ['flavors:\n  onnx: 3\n', /flavor 'onnx' must be a mapping/],
    ['flavors:\n  onnx: {}\nrun_id: 5\n', /'run_id' must be a string/],
    ['flavors:\n  onnx: {}\nsignature:\n  inputs: 5\n', /'signature.inputs' must be a JSON string/],
    [
      'flavors:\n  onnx: {}\nsignature:\n  inputs: \'[{"type": "decimal", "name": "a"}]\'\n',
      /unsupported type 'decimal'/,
    ],
    ['flavors:\n  onnx: {}\nenv_vars: [1]\n', /'env_vars' must be a list of strings/],
  ])('refuses %j', (text, message) => {
    expect(() => parseMlModel(text)).toThrow(MlModelError);
    expect(() => parseMlModel(text)).toThrow(message);
  });
});

describe('signature schemas (spec 4.6)', () => {
  test('tensor specs with and without names', () => {
    const schema = parseSchema(
      '[{"type": "tensor", "name": "x", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}, {"type": "tensor", "name": "m", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]',
    );
    expect(schema).toEqual({
      kind: 'tensors',
      tensors: [
        { name: 'x', dtype: 'float32', shape: [-1, 4] },
        { name: 'm', dtype: 'int64', shape: [-1] },
      ],
    });
  });

  test('composite column types: array, object, map, any', () => {
    const schema = parseSchema(
      JSON.stringify([
        { type: 'array', items: { type: 'string' }, name: 'tags', required: true },
        {
          type: 'object',
          properties: {
            a: { type: 'long', required: true },
            b: { type: 'array', items: { type: 'double' }, required: false },
          },
          name: 'obj',
          required: true,
        },
        { type: 'map', values: { type: 'string' }, name: 'kv', required: true },
        { type: 'any', name: 'whatever', required: false },
      ]),
    );
    expect(schema).toEqual({
      kind: 'columns',
      columns: [
        { name: 'tags', type: { type: 'array', items: 'string' }, required: true },
        {
          name: 'obj',
          type: {
            type: 'object',
            properties: {
              a: { type: 'long', required: true },
              b: { type: { type: 'array', items: 'double' }, required: false },
            },
          },
          required: true,
        },
        { name: 'kv', type: { type: 'map', values: 'string' }, required: true },
        { name: 'whatever', type: { type: 'any' }, required: false },
      ],
    });
  });

  test('columns default to required; unnamed columns are allowed', () => {
    expect(parseSchema('[{"type": "long"}, {"type": "double"}]')).toEqual({
      kind: 'columns',
      columns: [
        { type: 'long', required: true },
        { type: 'double', required: true },
      ],
    });
  });

  test.each([
    ['not json', /not valid JSON/],
    ['{"type": "long"}', /expected a JSON list/],
    [
      '[{"type": "long", "name": "a"}, {"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]',
      /cannot combine/,
    ],
    ['[{"type": "long", "name": "a"}, {"type": "long"}]', /either all columns are named or none is/],
    [
      '[{"type": "tensor", "tensor-spec": {"dtype": "int64"}}]',
      /needs 'tensor-spec' with 'dtype' and 'shape'/,
    ],
  ])('refuses %s', (json, message) => {
    expect(() => parseSchema(json)).toThrow(message);
  });

  test('params: defaults, list shapes, and refusals', () => {
    expect(
      parseParamSchema(
        '[{"name": "k", "type": "long", "default": 3, "shape": null}, {"name": "stops", "type": "string", "default": ["a"], "shape": [-1]}]',
      ),
    ).toEqual([
      { name: 'k', type: 'long', default: 3, shape: null },
      { name: 'stops', type: 'string', default: ['a'], shape: [-1] },
    ]);
    expect(() => parseParamSchema('[{"type": "long"}]')).toThrow(/needs a 'name'/);
    expect(() => parseParamSchema('[{"name": "k", "type": "tensor"}]')).toThrow(/unsupported type 'tensor'/);
  });
});
