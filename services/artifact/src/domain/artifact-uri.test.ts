import { describe, expect, test } from '@jest/globals';
import { parseArtifactLocation, parseStorageRoot, pathWithin } from './artifact-uri.js';

describe('parseArtifactLocation', () => {
  test.each([
    ['mlflow-artifacts:/1/abc/artifacts', { kind: 'proxied', path: '1/abc/artifacts' }],
    ['mlflow-artifacts:/', { kind: 'proxied', path: '' }],
    ['mlflow-artifacts://host:5000/1/abc/artifacts', { kind: 'proxied', path: '1/abc/artifacts' }],
    [
      'http://mast:5000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts',
      { kind: 'proxied', path: '1/abc/artifacts' },
    ],
    ['https://x/prefix/api/2.0/mlflow-artifacts/artifacts', { kind: 'proxied', path: '' }],
    ['s3://bucket/prefix/1/abc/artifacts', { kind: 's3', bucket: 'bucket', key: 'prefix/1/abc/artifacts' }],
    ['s3://bucket', { kind: 's3', bucket: 'bucket', key: '' }],
    ['s3://bucket/', { kind: 's3', bucket: 'bucket', key: '' }],
    ['file:///data/mlruns/1', { kind: 'local', path: '/data/mlruns/1' }],
    ['file:///data/with%20space', { kind: 'local', path: '/data/with space' }],
    ['/data/mlruns/1/', { kind: 'local', path: '/data/mlruns/1' }],
    ['./mlruns/1', { kind: 'local', path: '/srv/mlruns/1' }],
    ['gs://bucket/x', { kind: 'unsupported', scheme: 'gs' }],
    ['dbfs:/databricks/x', { kind: 'unsupported', scheme: 'dbfs' }],
    ['http://elsewhere/files/x', { kind: 'unsupported', scheme: 'http' }],
    ['C:\\mlruns', { kind: 'unsupported', scheme: 'windows-path' }],
  ])('%s', (uri, expected) => {
    expect(parseArtifactLocation(uri, '/srv')).toEqual(expected);
  });

  test.each([
    '/data/mlruns/../../etc',
    'file:///data/../etc',
    'file:///data/%2e%2e/etc',
    's3://bucket/a/../b',
    's3://bucket/a/%2e%2e/b',
    'mlflow-artifacts:/1/../../x',
    'http://h/api/2.0/mlflow-artifacts/artifacts/1/%2e%2e/%2e%2e/x',
    '/data/a\u0000b',
    's3://Not_A_Bucket/x',
  ])('%s is rejected', (uri) => {
    expect(() => parseArtifactLocation(uri, '/srv')).toThrow(
      expect.objectContaining({ code: 'INVALID_PARAMETER_VALUE' }),
    );
  });
});

describe('roots', () => {
  test('storage roots are local or S3 only', () => {
    expect(parseStorageRoot('s3://b-1/p', '/srv')).toEqual({ kind: 's3', bucket: 'b-1', key: 'p' });
    expect(() => parseStorageRoot('mlflow-artifacts:/', '/srv')).toThrow(
      /cannot be an artifact storage root/,
    );
  });

  test('pathWithin matches on whole segments', () => {
    const local = parseStorageRoot('/data/mlruns');
    expect(pathWithin(local, parseArtifactLocation('/data/mlruns/1/r/artifacts'))).toBe('1/r/artifacts');
    expect(pathWithin(local, parseArtifactLocation('/data/mlruns'))).toBe('');
    expect(pathWithin(local, parseArtifactLocation('/data/mlruns2/x'))).toBeUndefined();
    expect(pathWithin(local, parseArtifactLocation('s3://b1b/data/mlruns'))).toBeUndefined();
    const s3 = parseStorageRoot('s3://bkt/prefix');
    expect(pathWithin(s3, parseArtifactLocation('s3://bkt/prefix/1/r'))).toBe('1/r');
    expect(pathWithin(s3, parseArtifactLocation('s3://bkt/prefixed/1'))).toBeUndefined();
    expect(pathWithin(s3, parseArtifactLocation('s3://other/prefix/1'))).toBeUndefined();
    expect(pathWithin(parseStorageRoot('s3://bkt'), parseArtifactLocation('s3://bkt/any/key'))).toBe(
      'any/key',
    );
  });
});

describe('credentials in a location', () => {
  test('are refused without being printed', () => {
    for (const uri of [
      's3://AKIA:secret@bucket/p',
      'http://u:secret@host/api/2.0/mlflow-artifacts/artifacts',
    ]) {
      let message = '';
      try {
        parseStorageRoot(uri);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/^(Invalid|'http:\/\/u:\*\*\*@host)/);
      expect(message).not.toContain('secret');
    }
  });
});
