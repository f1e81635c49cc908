import { describe, expect, test } from '@jest/globals';
import { locateModel, ModelUriError } from './location.js';

const SERVER = 'http://127.0.0.1:5000';
const locate = (uri: string, tracking: string | undefined = `${SERVER}/`) =>
  locateModel(uri, tracking, '/work');

describe('locateModel', () => {
  test('models:/ URIs of every form go to the registry of the tracking server', () => {
    for (const uri of [
      'models:/churn/1',
      'models:/churn/Production',
      'models:/churn/latest',
      'models:/churn@champion',
      'models:/m-0123abc',
    ]) {
      expect(locate(uri)).toEqual({ kind: 'registry', uri, server: SERVER });
    }
  });

  test('runs:/ URIs as MLflow parses them, the Databricks profile ignored', () => {
    expect(locate('runs:/abc123/model')).toEqual({
      kind: 'run',
      runId: 'abc123',
      path: 'model',
      server: SERVER,
    });
    expect(locate('runs:/abc123/path/to/model/')).toMatchObject({ runId: 'abc123', path: 'path/to/model' });
    expect(locate('runs:///abc123/model')).toMatchObject({ runId: 'abc123', path: 'model' });
    expect(locate('runs://profile@databricks/abc123/model')).toMatchObject({
      runId: 'abc123',
      path: 'model',
    });
    expect(locate('runs:/abc123')).toMatchObject({ runId: 'abc123', path: '' });
    expect(() => locate('runs:/')).toThrow(
      "Not a proper runs:/ URI: runs:/. Runs URIs must be of the form 'runs:/<run_id>/run-relative/path/to/artifact'.",
    );
  });

  test('proxied artifact URIs: against the tracking server, a named host, or a proxy URL', () => {
    expect(locate('mlflow-artifacts:/1/abc/artifacts/model')).toEqual({
      kind: 'proxied',
      path: '1/abc/artifacts/model',
      server: SERVER,
    });
    expect(locate('mlflow-artifacts://other:8080/1/abc/artifacts/model')).toEqual({
      kind: 'proxied',
      path: '1/abc/artifacts/model',
      server: 'http://other:8080',
    });
    expect(locate('https://mlflow.example/prefix/api/2.0/mlflow-artifacts/artifacts/1/a%20b/model')).toEqual({
      kind: 'proxied',
      path: '1/a b/model',
      server: 'https://mlflow.example/prefix',
    });
    expect(() => locate('https://example.com/model.tar')).toThrow(/is not an artifact proxy URL/);
  });

  test('paths and file: URIs are local; relative ones resolve against the working directory', () => {
    expect(locate('/models/churn')).toEqual({ kind: 'local', path: '/models/churn' });
    expect(locate('models/churn')).toEqual({ kind: 'local', path: '/work/models/churn' });
    expect(locate('file:///models/churn')).toEqual({ kind: 'local', path: '/models/churn' });
  });

  test('s3:// prefixes are read from S3 directly, without a tracking server', () => {
    expect(locateModel('s3://bucket/models/churn/', undefined, '/work')).toEqual({
      kind: 's3',
      uri: 's3://bucket/models/churn',
    });
    expect(() => locate('s3:///model')).toThrow('Not a proper S3 URI: s3:///model.');
    expect(() => locate('s3://bucket/a/../../b')).toThrow(/'\.\.' and NUL are not allowed/);
  });

  test('remote forms need an http(s) tracking server, named in one line', () => {
    expect(() => locateModel('models:/churn@champion', undefined, '/work')).toThrow(
      'models:/churn@champion is fetched from a tracking server: set MLFLOW_TRACKING_URI or pass --tracking-uri (e.g. http://127.0.0.1:5000).',
    );
    expect(() => locate('runs:/abc/model', './mlruns')).toThrow(/'\.\/mlruns' is not an http\(s\) URL/);
  });

  test('traversal and storage Mast cannot reach are refused as ModelUriErrors', () => {
    expect(() => locate('runs:/abc/../../etc')).toThrow(ModelUriError);
    expect(() => locate('mlflow-artifacts:/1/%2e%2e/secrets')).toThrow(/'\.\.' and NUL are not allowed/);
    expect(() => locate('gs://bucket/model')).toThrow(
      /Mast cannot fetch gs:\/\/bucket\/model itself \('gs:' storage\)/,
    );
    expect(() => locate('')).toThrow('The model URI is empty.');
  });
});
