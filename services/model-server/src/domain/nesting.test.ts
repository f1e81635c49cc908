import { describe, expect, test } from '@jest/globals';
import { MAX_DIMENSIONS, MAX_NESTING, nestsDeeperThan } from './errors.js';
import { InferenceRequestError, parseInferRequest } from './oip.js';
import { pythonJsonLoads } from './python-json.js';
import { parseJsonRequest } from './scoring-request.js';

/** `[[[inner]]]`, `depth` lists deep, as JSON text (JSON.stringify itself fails thousands deep). */
const nested = (depth: number, inner: string) => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;

const TOO_DEEP = {
  code: 'BAD_REQUEST',
  message: `Invalid input. The input nests lists or objects more than ${MAX_NESTING} levels deep; a tensor has at most ${MAX_DIMENSIONS} dimensions.`,
};

describe('request JSON nested thousands deep', () => {
  test('nestsDeeperThan counts lists and objects, without recursion', () => {
    expect(nestsDeeperThan(1, 0)).toBe(false);
    expect(nestsDeeperThan([], 0)).toBe(true);
    expect(nestsDeeperThan({ a: [1, { b: [] }] }, 4)).toBe(false);
    expect(nestsDeeperThan({ a: [1, { b: [] }] }, 3)).toBe(true);
    expect(nestsDeeperThan(JSON.parse(nested(100_000, '1')), 99_999)).toBe(true);
    expect(nestsDeeperThan(JSON.parse(nested(100_000, '1')), 100_000)).toBe(false);
  });

  test('/invocations: inputs, instances, params or NaN-bearing bodies too deep are 400 BAD_REQUEST', () => {
    for (const depth of [MAX_NESTING, 5000, 100_000])
      for (const body of [
        `{"inputs": ${nested(depth, '1')}}`,
        `{"instances": ${nested(depth, '1')}}`,
        `{"inputs": {"x": ${nested(depth, '1')}}}`,
        `{"dataframe_split": {"columns": ["a"], "data": [[${nested(depth, '1')}]]}}`,
        `{"inputs": [1], "params": {"p": ${nested(depth, '1')}}}`,
        // Python's literals: read by pythonJsonLoads, a recursive parser.
        `{"inputs": ${nested(depth, 'NaN')}}`,
      ])
        expect(() => parseJsonRequest(body, ['p'])).toThrow(expect.objectContaining(TOO_DEEP));
  });

  test('a tensor of numpy`s most dimensions inside its envelope still parses', () => {
    const tensor = nested(MAX_DIMENSIONS, '1');
    expect(parseJsonRequest(`{"inputs": {"x": ${tensor}}}`).input).toEqual({
      kind: 'tensors',
      values: { x: JSON.parse(tensor) },
    });
    expect(parseJsonRequest(`{"inputs": ${nested(MAX_DIMENSIONS, 'NaN')}}`).input.kind).toBe('tensor');
  });

  test('pythonJsonLoads stops at MAX_NESTING, before its recursion would', () => {
    const deepest = pythonJsonLoads(nested(MAX_NESTING, 'NaN'));
    expect(nestsDeeperThan(deepest, MAX_NESTING - 1) && !nestsDeeperThan(deepest, MAX_NESTING)).toBe(true);
    expect(() => pythonJsonLoads(nested(MAX_NESTING + 1, 'NaN'))).toThrow(expect.objectContaining(TOO_DEEP));
    expect(() => pythonJsonLoads(`{"a": ${nested(100_000, '[]')}}`)).toThrow(
      expect.objectContaining(TOO_DEEP),
    );
  });

  test('/v2 infer: data or a shape beyond numpy`s dimensions is an InferenceRequestError', () => {
    const request = (shape: number[], data: unknown) => () =>
      parseInferRequest({ inputs: [{ name: 'x', shape, datatype: 'FP32', data }] });
    const message = `The input 'x' has more than ${MAX_DIMENSIONS} dimensions (numpy's most).`;
    for (const depth of [MAX_DIMENSIONS + 1, 5000, 100_000]) {
      expect(request(new Array(depth).fill(1), [1])).toThrow(new InferenceRequestError(message));
      expect(request([1], JSON.parse(nested(depth, '1')))).toThrow(new InferenceRequestError(message));
    }
    expect(request(new Array(MAX_DIMENSIONS).fill(1), JSON.parse(nested(MAX_DIMENSIONS, '1')))).not.toThrow();
  });
});
