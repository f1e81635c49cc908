import { describe, expect, test } from '@jest/globals';
import {
  ASSESSMENT_LIMITS,
  type AssessmentDraft,
  type AssessmentRecord,
  checkAssessmentLengths,
  expectationValue,
  feedbackValue,
  newAssessment,
  newAssessmentId,
  parseUpdateMask,
  pythonJsonDumps,
  toJsonValue,
  truncatedStackTrace,
  updatedAssessment,
} from './assessments.js';

const invalid = (message: string) => expect.objectContaining({ code: 'INVALID_PARAMETER_VALUE', message });

function draft(extra: Partial<AssessmentDraft> = {}): AssessmentDraft {
  return {
    name: 'correctness',
    source: { type: 'HUMAN', id: 'alice' },
    createTime: 0,
    lastUpdateTime: 0,
    value: { kind: 'feedback', value: true, error: null },
    rationale: 'looks right',
    metadata: {},
    spanId: null,
    overrides: null,
    ...extra,
  };
}

describe('assessment values', () => {
  test('ids are "a-" and 32 hex digits', () => {
    expect(newAssessmentId()).toMatch(/^a-[0-9a-f]{32}$/);
    expect(newAssessmentId()).not.toBe(newAssessmentId());
  });

  test('a feedback needs a value or an error; null is no value', () => {
    const error = { errorCode: 'RATE_LIMIT', errorMessage: null, stackTrace: null };
    expect(feedbackValue(0, null)).toEqual({ kind: 'feedback', value: 0, error: null });
    expect(feedbackValue(undefined, error)).toEqual({ kind: 'feedback', value: null, error });
    expect(feedbackValue(null, error)).toEqual({ kind: 'feedback', value: null, error });
    expect(() => feedbackValue(undefined, null)).toThrow(
      invalid('Either `value` or `error` must be provided.'),
    );
    expect(() => feedbackValue(null, null)).toThrow(invalid('Either `value` or `error` must be provided.'));
  });

  test('an expectation is its value, or its JSON_FORMAT serialized value (which wins)', () => {
    expect(expectationValue('Paris', undefined, 'p')).toEqual({ kind: 'expectation', value: 'Paris' });
    expect(expectationValue('x', { format: 'JSON_FORMAT', text: '{"a": [1, 2]}' }, 'p')).toEqual({
      kind: 'expectation',
      value: { a: [1, 2] },
    });
    expect(() => expectationValue(undefined, undefined, 'p')).toThrow(
      invalid('The `value` field must be specified.'),
    );
    expect(() => expectationValue(null, undefined, 'p')).toThrow(
      invalid('The `value` field must be specified.'),
    );
    expect(() => expectationValue(undefined, { format: 'JSON_FORMAT', text: 'null' }, 'p')).toThrow(
      invalid('The `value` field must be specified.'),
    );
    expect(() => expectationValue(undefined, { format: 'PICKLE', text: '1' }, 'p')).toThrow(
      invalid('Unknown serialization format: PICKLE. Only JSON_FORMAT is supported.'),
    );
    expect(() => expectationValue(undefined, { format: 'JSON_FORMAT', text: '{oops' }, 'a.b')).toThrow(
      expect.objectContaining({ code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining("'a.b'") }),
    );
  });

  test('request values: big integers become doubles, nested ones too', () => {
    expect(toJsonValue(undefined)).toBeUndefined();
    expect(toJsonValue(2n ** 60n)).toBe(2 ** 60);
    expect(toJsonValue({ a: [1n, 'x', null], b: { c: true } })).toEqual({
      a: [1, 'x', null],
      b: { c: true },
    });
  });

  test("values serialize as Python's json.dumps", () => {
    expect(pythonJsonDumps(['a', 'b'])).toBe('["a", "b"]');
    expect(pythonJsonDumps({ z: 1, a: { b: [true, null, 2.5] } })).toBe(
      '{"z": 1, "a": {"b": [true, null, 2.5]}}',
    );
    expect(pythonJsonDumps([])).toBe('[]');
    expect(pythonJsonDumps({})).toBe('{}');
    expect(pythonJsonDumps('é\u007f"\n')).toBe('"\\u00e9\\u007f\\"\\n"');
    expect(pythonJsonDumps(['😀'])).toBe('["\\ud83d\\ude00"]');
  });

  test('stack traces beyond 10000 characters keep their end after a prefix', () => {
    expect(truncatedStackTrace('short')).toBe('short');
    const long = `${'a'.repeat(5000)}${'b'.repeat(6000)}`;
    const truncated = truncatedStackTrace(long);
    expect(truncated).toHaveLength(10000);
    const prefix = '[Stack trace is truncated]\n...\n';
    expect(truncated).toBe(prefix + long.slice(-(10000 - prefix.length)));
  });
});

describe('creating an assessment', () => {
  test('unset times are now, given ones kept; a new assessment is valid', () => {
    const now = 1_700_000_000_000;
    const created = newAssessment('tr-1', draft({ createTime: 5 }), now);
    expect(created).toMatchObject({ traceId: 'tr-1', createTime: 5, lastUpdateTime: now, valid: true });
    expect(created.assessmentId).toMatch(/^a-[0-9a-f]{32}$/);
  });

  test('the run comes from metadata; empty metadata is none', () => {
    expect(newAssessment('t', draft(), 1).metadata).toBeNull();
    const withRun = newAssessment('t', draft({ metadata: { 'mlflow.assessment.sourceRunId': 'r1' } }), 1);
    expect(withRun.runId).toBe('r1');
    expect(withRun.metadata).toEqual({ 'mlflow.assessment.sourceRunId': 'r1' });
  });

  test('an expectation keeps neither rationale nor overrides (MLflow drops them)', () => {
    const expectation = newAssessment(
      't',
      draft({ value: { kind: 'expectation', value: 'x' }, overrides: 'a-old', rationale: 'why' }),
      1,
    );
    expect(expectation).toMatchObject({ rationale: null, overrides: null });
    const feedback = newAssessment('t', draft({ overrides: 'a-old' }), 1);
    expect(feedback).toMatchObject({ rationale: 'looks right', overrides: 'a-old' });
  });
});

describe("the widths of MLflow's assessment columns", () => {
  const tooLong = (path: string, limit: number) =>
    invalid(`'${path}' exceeds the maximum length of ${limit} characters.`);

  test('are those of SqlAssessments: name and source_id 250, span_id 50, run_id 32', () => {
    expect(ASSESSMENT_LIMITS).toEqual({ name: 250, sourceId: 250, spanId: 50, runId: 32 });
  });

  test('values at the width pass; one character more is refused, naming the request field', () => {
    const run = 'mlflow.assessment.sourceRunId';
    const atWidth = newAssessment(
      't',
      draft({
        name: 'n'.repeat(250),
        source: { type: 'HUMAN', id: 's'.repeat(250) },
        spanId: 'p'.repeat(50),
        metadata: { [run]: 'r'.repeat(32) },
      }),
      1,
    );
    expect(() => checkAssessmentLengths(atWidth)).not.toThrow();
    const cases: Array<[Partial<AssessmentRecord>, string, number]> = [
      [{ name: 'n'.repeat(251) }, 'assessment.assessment_name', 250],
      [{ source: { type: 'HUMAN', id: 's'.repeat(251) } }, 'assessment.source.source_id', 250],
      [{ spanId: 'p'.repeat(51) }, 'assessment.span_id', 50],
      [{ runId: 'r'.repeat(33) }, `assessment.metadata.${run}`, 32],
    ];
    for (const [change, path, limit] of cases) {
      expect(() => checkAssessmentLengths({ ...atWidth, ...change })).toThrow(tooLong(path, limit));
    }
    // Absent optional fields and long Text columns (rationale, values, metadata) are not bounded.
    const unbounded = newAssessment(
      't',
      draft({
        rationale: 'x'.repeat(100_000),
        value: { kind: 'feedback', value: 'v'.repeat(100_000), error: null },
      }),
      1,
    );
    expect(() => checkAssessmentLengths({ ...unbounded, source: { type: 'CODE', id: null } })).not.toThrow();
  });

  test('characters are counted as SQL counts them: an emoji is one, not two UTF-16 units', () => {
    const record = newAssessment('t', draft({ name: '😀'.repeat(250) }), 1);
    expect(record.name.length).toBe(500);
    expect(() => checkAssessmentLengths(record)).not.toThrow();
    expect(() => checkAssessmentLengths({ ...record, name: '😀'.repeat(251) })).toThrow(
      tooLong('assessment.assessment_name', 250),
    );
  });

  test('an update may not make the name longer than its column, after the kind checks', () => {
    const existing = newAssessment('t', draft(), 1);
    expect(() => updatedAssessment(existing, { name: 'n'.repeat(251) }, 2)).toThrow(
      tooLong('assessment.assessment_name', 250),
    );
    expect(updatedAssessment(existing, { name: 'n'.repeat(250) }, 2).name).toHaveLength(250);
    expect(() =>
      updatedAssessment(existing, { name: 'n'.repeat(251), value: { kind: 'expectation', value: 1 } }, 2),
    ).toThrow(invalid('Cannot update expectation value on a Feedback assessment.'));
  });
});

describe('updating an assessment', () => {
  const existing: AssessmentRecord = {
    ...newAssessment('t', draft({ metadata: { a: '1', b: '2' }, overrides: 'a-old' }), 100),
    valid: false,
  };

  test('named fields change, metadata merges, identity and validity stay, the time is now', () => {
    const updated = updatedAssessment(
      existing,
      { name: 'renamed', rationale: '', metadata: { b: 'x', c: '3' }, value: feedbackValue(0.5, null) },
      200,
    );
    expect(updated).toEqual({
      ...existing,
      name: 'renamed',
      rationale: '',
      metadata: { a: '1', b: 'x', c: '3' },
      value: { kind: 'feedback', value: 0.5, error: null },
      lastUpdateTime: 200,
    });
    expect(updatedAssessment(existing, {}, 300)).toEqual({ ...existing, lastUpdateTime: 300 });
  });

  test('a value of the other kind is refused with MLflow words', () => {
    expect(() => updatedAssessment(existing, { value: { kind: 'expectation', value: 1 } }, 1)).toThrow(
      invalid('Cannot update expectation value on a Feedback assessment.'),
    );
    const expectation = newAssessment('t', draft({ value: { kind: 'expectation', value: 1 } }), 1);
    expect(() => updatedAssessment(expectation, { value: feedbackValue(1, null) }, 1)).toThrow(
      invalid('Cannot update feedback value on an Expectation assessment.'),
    );
    expect(updatedAssessment(expectation, { rationale: 'ignored' }, 2).rationale).toBeNull();
  });

  test('update masks are camelCase JSON paths; underscores are refused as protobuf refuses them', () => {
    expect(parseUpdateMask('assessmentName,feedback,rationale,metadata')).toEqual([
      'assessment_name',
      'feedback',
      'rationale',
      'metadata',
    ]);
    expect(() => parseUpdateMask('assessment_name')).toThrow(
      expect.objectContaining({
        code: 'INVALID_PARAMETER_VALUE',
        message: expect.stringContaining('Path name assessment_name must not contain "_"s.'),
      }),
    );
  });
});
