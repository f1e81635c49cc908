import { describe, expect, test } from '@jest/globals';
import { canonicalStage, MlflowError, validateAliasName } from '@mast/common';
import { artifactDownloadPath, runFileDownloadPath, safeRelativePath } from './artifact-location.js';
import { parseModelUri } from './model-uri.js';
import {
  parseModelFilter,
  parseModelOrderBy,
  parseVersionFilter,
  parseVersionOrderBy,
  searchesPrompts,
} from './search.js';
import { checkNoRelativePaths, isInsideLocalRoot, isLocalSource, validateVersionSource } from './source.js';
import { checkArchiveExisting } from './stages.js';
import { parseVersion } from './validation.js';

function messageOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(MlflowError);
    return (error as MlflowError).message;
  }
}

describe('stages', () => {
  test.each([
    ['none', 'None'],
    ['STAGING', 'Staging'],
    ['Production', 'Production'],
    ['archived', 'Archived'],
  ])('%s → %s', (input, canonical) => expect(canonicalStage(input)).toBe(canonical));
  test('unknown stages and archiving into an inactive stage are rejected', () => {
    expect(messageOf(() => canonicalStage('Deleted_Internal'))).toBe(
      'Invalid Model Version stage Deleted_Internal.',
    );
    expect(messageOf(() => checkArchiveExisting('None', true))).toMatch(/'None' is not an Active stage/);
    expect(messageOf(() => checkArchiveExisting('Staging', true))).toBeUndefined();
    expect(messageOf(() => checkArchiveExisting('None', false))).toBeUndefined();
  });
});

describe('aliases and versions', () => {
  test.each(['champion', 'a-b_c', 'V', 'v1a', 'x'.repeat(255)])('accepts alias %p', (alias) =>
    expect(messageOf(() => validateAliasName(alias))).toBeUndefined(),
  );
  test.each([
    ['', 'Registered model alias name cannot be empty.'],
    ['LaTeSt', "'latest' alias name (case insensitive) is reserved."],
    ['V12', "Version alias name 'V12' is reserved."],
    [
      'a.b',
      "Invalid alias name: 'a.b'. Names may only contain alphanumerics, underscores (_), and dashes (-).",
    ],
    ['x'.repeat(256), "'Registered model alias name' exceeds the maximum length of 255 characters"],
  ])('rejects alias %p', (alias, message) => expect(messageOf(() => validateAliasName(alias))).toBe(message));
  test('versions parse as Python int() does', () => {
    expect(parseVersion(' 3 ')).toBe(3);
    expect(parseVersion('+4')).toBe(4);
    expect(messageOf(() => parseVersion('1.0'))).toBe("Parameter 'version' must be an integer, got '1.0'.");
  });
});

describe('models:/ URIs', () => {
  test.each([
    ['models:/iris/3', { kind: 'version', name: 'iris', version: 3 }],
    ['models:/iris/Production', { kind: 'stage', name: 'iris', stage: 'Production' }],
    ['models:/iris/latest', { kind: 'latest', name: 'iris' }],
    ['models:/iris@champion', { kind: 'alias', name: 'iris', alias: 'champion' }],
    ['models:/a@b@c', { kind: 'alias', name: 'a@b', alias: 'c' }],
    [
      'models:/m-0123456789abcdef0123456789abcdef',
      { kind: 'model-id', modelId: 'm-0123456789abcdef0123456789abcdef' },
    ],
  ])('%s', (uri, parsed) => expect(parseModelUri(uri)).toEqual(parsed));
  test.each([
    'models:',
    'models:/',
    'models:/a/b/c',
    'models:/a/',
    'models:/ /1',
    'runs:/a/b',
    'models:/a@',
    'models:/@a',
  ])('rejects %p', (uri) =>
    expect(messageOf(() => parseModelUri(uri))).toMatch(/^Not a proper models:\/ URI/),
  );
});

describe('sources', () => {
  test.each([
    's3://bucket/path/model',
    'runs:/abc/model',
    'models:/m-abc',
    'mlflow-artifacts:/1/x',
    'gs://b/p',
  ])('accepts %p', (source) =>
    expect(messageOf(() => validateVersionSource(source, { isPrompt: false }))).toBeUndefined(),
  );
  test.each([
    'mlflow-artifacts://host:9000/models/..%2f..%2fartifacts',
    'http://host/a/%2e%2e/b',
    's3://bucket/a/./b',
    'mlflow-artifacts://host/a%00',
    's3://bucket',
  ])('rejects relative/odd paths %p', (source) =>
    expect(messageOf(() => checkNoRelativePaths(source))).toMatch(/^Invalid model version source/),
  );
  test('local sources are refused; the regex gate applies first', () => {
    expect(messageOf(() => validateVersionSource('/tmp/m', { isPrompt: false, modelId: 'm-1' }))).toMatch(
      /model_id request parameter/,
    );
    expect(
      messageOf(() => validateVersionSource('s3://x/y', { isPrompt: false, regex: /^mlflow-artifacts:/ })),
    ).toBe("Invalid model version source: 's3://x/y'.");
    expect(messageOf(() => validateVersionSource('relative', { isPrompt: true }))).toBeUndefined();
  });
  test.each<[string, string, boolean]>([
    ['/srv/run/artifacts/model', 'file:///srv/run/artifacts', true],
    ['file:///srv/run/artifacts', '/srv/run/artifacts/', true],
    ['file:///srv/run/artifacts/a%20b', 'file:///srv/run/artifacts', true],
    ['/srv/run/artifacts/../other', '/srv/run/artifacts', false],
    ['/srv/run/artifacts-evil/model', '/srv/run/artifacts', false],
    ['/srv/run/artifacts/model', 's3://bucket/run/artifacts', false],
    ['file://localhost/srv/run/artifacts/model', '/srv/run/artifacts', true],
  ])('local source %p inside root %p: %p', (source, root, inside) => {
    expect(isInsideLocalRoot(source, root)).toBe(inside);
    const error = messageOf(() =>
      validateVersionSource(source, { isPrompt: false, anchorRoot: root, regex: undefined }),
    );
    if (inside) expect(error).toBeUndefined();
    else expect(error).toMatch(/^Invalid model version source/);
  });
  test('a file: URI naming a remote host is refused before any anchoring', () => {
    expect(
      messageOf(() =>
        validateVersionSource('file://123.456.789.123/path/to/source', {
          isPrompt: false,
          anchorRoot: '/path',
        }),
      ),
    ).toBe(
      'file://123.456.789.123/path/to/source is not a valid remote uri. For remote access on windows, please consider using a different scheme such as SMB (e.g. smb://<hostname>/<path>).',
    );
    expect(isLocalSource('file://127.0.0.1/tmp/x')).toBe(true);
    expect(isLocalSource('s3://bucket/x')).toBe(false);
  });
});

describe('search grammar', () => {
  test('filters as the MLflow UI writes them', () => {
    expect(parseModelFilter("name ilike '%fraud%'")).toEqual({
      kind: 'comparison',
      comparison: { type: 'attribute', key: 'name', comparator: 'ILIKE', value: '%fraud%' },
    });
    expect(parseVersionFilter("name='iris'")).toEqual({
      kind: 'comparison',
      comparison: { type: 'attribute', key: 'name', comparator: '=', value: 'iris' },
    });
    expect(parseVersionFilter('name="iris" and version_number>2')).toEqual({
      kind: 'and',
      children: [
        {
          kind: 'comparison',
          comparison: { type: 'attribute', key: 'name', comparator: '=', value: 'iris' },
        },
        {
          kind: 'comparison',
          comparison: { type: 'attribute', key: 'version_number', comparator: '>', value: 2 },
        },
      ],
    });
  });

  test('prompt filters and model/version identifiers', () => {
    expect(searchesPrompts(parseModelFilter("tags.`mlflow.prompt.is_prompt` = 'true'"))).toBe(true);
    expect(searchesPrompts(parseModelFilter("tags.`mlflow.prompt.is_prompt` = 'false'"))).toBe(false);
    expect(searchesPrompts(parseModelFilter("name = 'x'"))).toBe(false);
    expect(parseVersionFilter("run_id IN ('a', 'b')")).toEqual({
      kind: 'comparison',
      comparison: { type: 'attribute', key: 'run_id', comparator: 'IN', value: ['a', 'b'] },
    });
    expect(messageOf(() => parseModelFilter('version_number = 1'))).toMatch(
      /Invalid attribute key 'version_number'/,
    );
    expect(parseModelOrderBy(['timestamp DESC'])).toEqual([
      { type: 'attribute', key: 'last_updated_timestamp', ascending: false },
    ]);
    expect(messageOf(() => parseModelOrderBy(['timestamp', 'last_updated_timestamp']))).toMatch(
      /duplicate fields/,
    );
    expect(parseVersionOrderBy([])).toEqual([
      { type: 'attribute', key: 'last_updated_timestamp', ascending: false },
    ]);
    expect(parseVersionOrderBy(['name DESC'])).toEqual([
      { type: 'attribute', key: 'name', ascending: false },
    ]);
  });
});

describe('version artifact downloads', () => {
  test.each([
    [
      'mlflow-artifacts:/1/abc/artifacts/model',
      'MLmodel',
      '/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model/MLmodel',
    ],
    ['mlflow-artifacts://host:5000/1/x', 'a b/c', '/api/2.0/mlflow-artifacts/artifacts/1/x/a%20b/c'],
    ['runs:/abc/model', 'MLmodel', '/get-artifact?run_id=abc&path=model%2FMLmodel'],
    ['runs:/abc', 'MLmodel', '/get-artifact?run_id=abc&path=MLmodel'],
    ['s3://bucket/model', 'MLmodel', undefined],
    [
      'http://mlflow:5000/api/2.0/mlflow-artifacts/artifacts/0/abc/artifacts/my%20model',
      'MLmodel',
      '/api/2.0/mlflow-artifacts/artifacts/0/abc/artifacts/my%20model/MLmodel',
    ],
    [
      'https://host/prefix/api/2.0/mlflow-artifacts/artifacts/exp/r/artifacts',
      'm/MLmodel',
      '/api/2.0/mlflow-artifacts/artifacts/exp/r/artifacts/m/MLmodel',
    ],
    ['https://example.com/models/model.tar.gz', 'MLmodel', undefined],
  ])('%s + %s', (uri, path, expected) => expect(artifactDownloadPath(uri, path)).toBe(expected));
  test('local download URIs inside their run root are served through /get-artifact', () => {
    const run = { runId: 'r1', artifactUri: 'file:///srv/mlruns/1/r1/artifacts' };
    expect(runFileDownloadPath('file:///srv/mlruns/1/r1/artifacts/model', run, 'MLmodel')).toBe(
      '/get-artifact?run_id=r1&path=model%2FMLmodel',
    );
    expect(runFileDownloadPath('/srv/mlruns/1/r1/artifacts', run, 'a b.txt')).toBe(
      '/get-artifact?run_id=r1&path=a+b.txt',
    );
    expect(runFileDownloadPath('/srv/mlruns/1/r2/artifacts/model', run, 'MLmodel')).toBeUndefined();
  });
  test.each(['../x', '/etc/passwd', 'a/../../b', 'C:/x', ''])('rejects path %p', (path) =>
    expect(messageOf(() => safeRelativePath(path))).toBe('Invalid path'),
  );
});
