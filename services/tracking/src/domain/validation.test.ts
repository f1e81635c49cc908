import { describe, expect, test } from '@jest/globals';
import { MlflowError } from '@mast/common';
import { newLoggedModelId, newRunId } from './ids.js';
import { generateRunName } from './run-names.js';
import {
  resolveLocalArtifactLocation,
  truncateParamValue,
  truncateRunTagValue,
  validateArtifactLocation,
  validateBatchSize,
  validateExperimentName,
  validateNoDuplicateParamKeys,
  validateRunId,
} from './validation.js';

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof MlflowError ? error.code : 'NOT_AN_MLFLOW_ERROR';
  }
}

describe('values and names', () => {
  test('long param and tag values are truncated to MLflow limits', () => {
    expect(truncateParamValue('v'.repeat(7000))).toHaveLength(6000);
    expect(truncateRunTagValue('v'.repeat(9000))).toHaveLength(8000);
    expect(truncateParamValue('short')).toBe('short');
  });
  test('experiment names must be non-empty and at most 500 characters', () => {
    expect(codeOf(() => validateExperimentName(''))).toBe('INVALID_PARAMETER_VALUE');
    expect(codeOf(() => validateExperimentName('x'.repeat(501)))).toBe('INVALID_PARAMETER_VALUE');
    expect(codeOf(() => validateExperimentName('team/exp 1'))).toBeUndefined();
  });
  test('artifact locations: runs:/ URIs, fragments and params are rejected', () => {
    expect(codeOf(() => validateArtifactLocation('runs:/abc/model'))).toBe('INVALID_PARAMETER_VALUE');
    expect(codeOf(() => validateArtifactLocation('s3://bucket/path#frag'))).toBe('INVALID_PARAMETER_VALUE');
    expect(codeOf(() => validateArtifactLocation('s3://bucket/path;params'))).toBe('INVALID_PARAMETER_VALUE');
    expect(codeOf(() => validateArtifactLocation('s3://bucket/path'))).toBeUndefined();
  });
  test('artifact locations: `..` in the query string is rejected however often it is percent-encoded', () => {
    for (const location of [
      's3://b/p?x=../y',
      'http://h/p?x=%2e%2e/y',
      'http://h/p?x=%252E%252E',
      'p?%zz..',
    ]) {
      expect({ location, code: codeOf(() => validateArtifactLocation(location)) }).toEqual({
        location,
        code: 'INVALID_PARAMETER_VALUE',
      });
    }
    expect(codeOf(() => validateArtifactLocation('s3://b/p?version=1.2&x=%2e'))).toBeUndefined();
  });
  test('relative local artifact locations resolve against the cwd (resolve_uri_if_local)', () => {
    expect(resolveLocalArtifactLocation('loc', '/srv/')).toBe('/srv/loc');
    expect(resolveLocalArtifactLocation('./a//b/', '/srv')).toBe('/srv/a/b');
    expect(resolveLocalArtifactLocation('../up', '/srv')).toBe('/srv/../up');
    expect(resolveLocalArtifactLocation('file:rel?q=1', '/srv')).toBe('file:///srv/rel?q=1');
    for (const kept of ['/abs', 'file:///abs', 'file://host/abs', 's3://b/k', 'mlflow-artifacts:/1']) {
      expect(resolveLocalArtifactLocation(kept, '/srv')).toBe(kept);
    }
  });
  test('run ids follow MLflow pattern', () => {
    expect(codeOf(() => validateRunId(newRunId()))).toBeUndefined();
    expect(codeOf(() => validateRunId('-abc'))).toBe('INVALID_PARAMETER_VALUE');
    expect(codeOf(() => validateRunId('a'.repeat(257)))).toBe('INVALID_PARAMETER_VALUE');
  });
});

describe('batches', () => {
  test('limits per kind and in total', () => {
    expect(codeOf(() => validateBatchSize(1000, 0, 0))).toBeUndefined();
    expect(codeOf(() => validateBatchSize(1001, 0, 0))).toBe('INVALID_PARAMETER_VALUE');
    expect(codeOf(() => validateBatchSize(0, 101, 0))).toBe('INVALID_PARAMETER_VALUE');
    expect(codeOf(() => validateBatchSize(0, 0, 101))).toBe('INVALID_PARAMETER_VALUE');
    expect(codeOf(() => validateBatchSize(900, 100, 1))).toBe('INVALID_PARAMETER_VALUE');
  });
  test('duplicate param keys are named in the error', () => {
    expect(() => validateNoDuplicateParamKeys(['a', 'b', 'a'])).toThrow(
      "Duplicate parameter keys have been submitted: ['a']",
    );
    expect(codeOf(() => validateNoDuplicateParamKeys(['a', 'b']))).toBeUndefined();
  });
});

describe('ids and names', () => {
  test('run ids are 32 lowercase hex characters; logged models m-<32 hex>', () => {
    expect(newRunId()).toMatch(/^[0-9a-f]{32}$/);
    expect(newLoggedModelId()).toMatch(/^m-[0-9a-f]{32}$/);
  });
  test('generated run names look like adjective-animal-NNN', () => {
    for (let i = 0; i < 50; i++) expect(generateRunName()).toMatch(/^[a-z]+-[a-z]+-\d{1,3}$/);
  });
});
