import { describe, expect, test } from '@jest/globals';
import { MlflowError } from '../errors.js';
import { validateKey } from './keys.js';

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof MlflowError ? error.code : 'NOT_AN_MLFLOW_ERROR';
  }
}

describe('validateKey', () => {
  test.each(['loss', 'system/cpu_utilization_percentage', 'a b', 'a-b.c:d', 'été', 'x'.repeat(250), 'a/b/c'])(
    'accepts %p',
    (key) => expect(codeOf(() => validateKey('metric', key))).toBeUndefined(),
  );
  test.each([
    'a//b',
    'a/./b',
    'a/',
    '/a',
    '.',
    '..',
    '../x',
    'a/../b',
    'a\\b',
    'a*b',
    'x'.repeat(251),
    'a\u0000b',
  ])('rejects %p', (key) => expect(codeOf(() => validateKey('metric', key))).toBe('INVALID_PARAMETER_VALUE'));
});
