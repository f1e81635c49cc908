import { describe, expect, test } from '@jest/globals';
import {
  checkRequestTime,
  formatDuration,
  formatTimestamp,
  mergeLinkedPrompts,
  parseDuration,
  parseTimestamp,
  promptVersionNumber,
  traceDataProxyPath,
  traceDeletion,
  truncateEntries,
  truncatePreview,
  validatedTraceTag,
  validateLinkCount,
  validateTraceId,
} from './traces.js';

describe('protobuf Timestamp and Duration JSON', () => {
  test('timestamps parse to milliseconds and print as protobuf does', () => {
    const ms = Date.UTC(2025, 1, 3, 4, 5, 6, 789);
    expect(parseTimestamp('2025-02-03T04:05:06.789Z', 'request_time')).toBe(ms);
    expect(parseTimestamp('2025-02-03T04:05:06.789123456Z', 'request_time')).toBe(ms);
    expect(parseTimestamp('2025-02-03T05:05:06.789+01:00', 'request_time')).toBe(ms);
    expect(parseTimestamp('2025-02-03T04:05:06.7Z', 'request_time')).toBe(ms - 89);
    expect(parseTimestamp('1970-01-01T00:00:00Z', 'request_time')).toBe(0);
    expect(formatTimestamp(ms)).toBe('2025-02-03T04:05:06.789Z');
    expect(formatTimestamp(Date.UTC(2025, 0, 1))).toBe('2025-01-01T00:00:00Z');
  });

  test('malformed or impossible timestamps are INVALID_PARAMETER_VALUE', () => {
    for (const text of [
      'yesterday',
      '2025-02-30T00:00:00Z',
      '2025-02-03T24:00:00Z',
      '2025-02-03 04:05:06Z',
      '2025-02-03T04:05:06',
    ]) {
      expect(() => parseTimestamp(text, 'trace.trace_info.request_time')).toThrow(
        expect.objectContaining({ code: 'INVALID_PARAMETER_VALUE' }),
      );
    }
  });

  test('V2 start times must fit a Timestamp', () => {
    expect(checkRequestTime(0, 'timestamp_ms')).toBe(0);
    expect(formatTimestamp(checkRequestTime(253_402_300_799_999, 'timestamp_ms'))).toBe(
      '9999-12-31T23:59:59.999Z',
    );
    expect(formatTimestamp(checkRequestTime(-62_135_596_800_000, 'timestamp_ms'))).toBe(
      '0001-01-01T00:00:00Z',
    );
    expect(() => checkRequestTime(9e15, 'timestamp_ms')).toThrow(
      expect.objectContaining({ code: 'INVALID_PARAMETER_VALUE' }),
    );
  });

  test('durations', () => {
    expect(parseDuration('1.500s', 'd')).toBe(1500);
    expect(parseDuration('2s', 'd')).toBe(2000);
    expect(parseDuration('-0.250s', 'd')).toBe(-250);
    expect(parseDuration('0.000999999s', 'd')).toBe(0);
    expect(() => parseDuration('1500ms', 'd')).toThrow(
      expect.objectContaining({ code: 'INVALID_PARAMETER_VALUE' }),
    );
    expect([1500, 2000, 0, 7, -250].map(formatDuration)).toEqual(['1.500s', '2s', '0s', '0.007s', '-0.250s']);
  });
});

describe('limits', () => {
  test('previews keep 1000 characters, tags and metadata are truncated as MLflow truncates them', () => {
    expect(truncatePreview('x'.repeat(1200))).toHaveLength(1000);
    expect(truncatePreview(undefined)).toBeUndefined();
    expect(
      truncateEntries({ ['k'.repeat(300)]: 'v'.repeat(9000), a: 'b' }, { key: 250, value: 8000 }),
    ).toEqual({
      ['k'.repeat(250)]: 'v'.repeat(8000),
      a: 'b',
    });
  });

  test('SetTraceTag: tag-key rules; a value past 8000 characters is cut, not rejected', () => {
    expect(validatedTraceTag('mlflow.note', `123${'a'.repeat(8000)}`)).toEqual({
      key: 'mlflow.note',
      value: `123${'a'.repeat(7997)}`,
    });
    // Bad characters or paths: MLflow's `invalid_value` wording, the key JSON-quoted.
    for (const [key, written] of [
      ['a/../b', '"a/../b"'],
      ['../', '"../"'],
      ['invalid?tag!name:(', '"invalid?tag!name:("'],
      ['/.:\\.', '"/.:\\\\."'],
    ]) {
      expect(() => validatedTraceTag(key!, 'v')).toThrow(
        expect.objectContaining({
          code: 'INVALID_PARAMETER_VALUE',
          message: expect.stringContaining(`Invalid value ${written} for parameter 'key' supplied`),
        }),
      );
    }
    expect(() => validatedTraceTag('k'.repeat(251), 'v')).toThrow(
      expect.objectContaining({
        code: 'INVALID_PARAMETER_VALUE',
        message: expect.stringContaining("'key' exceeds the maximum length of 250 characters"),
      }),
    );
  });

  test('a trace id must be usable as a path segment', () => {
    expect(() => validateTraceId('tr-0123456789abcdef0123456789abcdef')).not.toThrow();
    for (const id of ['a/b', '..', '.', '../x']) {
      expect(() => validateTraceId(id)).toThrow(expect.objectContaining({ code: 'INVALID_PARAMETER_VALUE' }));
    }
  });

  test('LinkTracesToRun takes at most 100 traces', () => {
    expect(() => validateLinkCount(100)).not.toThrow();
    expect(() => validateLinkCount(101)).toThrow(
      'Cannot link more than 100 traces to a run in a single request. Provided 101 traces.',
    );
  });
});

describe('DeleteTraces arguments', () => {
  test('by ids, or by time with an optional positive max_traces', () => {
    expect(traceDeletion({ traceIds: ['a'] })).toEqual({ kind: 'ids', traceIds: ['a'] });
    expect(traceDeletion({ maxTimestampMillis: 0, traceIds: [] })).toEqual({
      kind: 'older',
      maxTimestampMillis: 0,
      maxTraces: undefined,
    });
    expect(traceDeletion({ maxTimestampMillis: 5, maxTraces: 2, traceIds: [] })).toMatchObject({
      maxTraces: 2,
    });
    // MLflow tests `max_timestamp_millis and trace_ids` by truthiness: 0 with ids deletes the ids.
    expect(traceDeletion({ maxTimestampMillis: 0, traceIds: ['a'] })).toEqual({
      kind: 'ids',
      traceIds: ['a'],
    });
  });

  test("MLflow's messages, in MLflow's order", () => {
    expect(() => traceDeletion({ traceIds: [] })).toThrow(
      'Either `max_timestamp_millis` or `trace_ids` must be specified.',
    );
    expect(() => traceDeletion({ maxTimestampMillis: 1, traceIds: ['a'] })).toThrow(
      'Only one of `max_timestamp_millis` and `trace_ids` can be specified.',
    );
    expect(() => traceDeletion({ maxTraces: 1, traceIds: ['a'] })).toThrow(
      "`max_traces` can't be specified if `trace_ids` is specified.",
    );
    expect(() => traceDeletion({ maxTimestampMillis: 1, maxTraces: -1, traceIds: [] })).toThrow(
      '`max_traces` must be a positive integer, received -1.',
    );
  });
});

describe('prompt links (LinkPromptsToTrace)', () => {
  test('versions read as Python int() reads them', () => {
    expect(promptVersionNumber('7', 'v')).toBe('7');
    expect(promptVersionNumber(' +07 ', 'v')).toBe('7');
    expect(promptVersionNumber('-0', 'v')).toBe('0');
    for (const bad of ['', 'v1', '1.0', '1 2'])
      expect(() => promptVersionNumber(bad, 'v')).toThrow('A prompt version is an integer');
  });

  test('merged as update_linked_prompts_tag writes them', () => {
    expect(mergeLinkedPrompts(undefined, [{ name: 'a', version: '1' }])).toBe(
      '[{"name": "a", "version": "1"}]',
    );
    expect(mergeLinkedPrompts('[{"name":"a","version":"1"}]', [{ name: 'a', version: '1' }])).toBe(
      '[{"name":"a","version":"1"}]',
    );
    // An entry with another key, or a numeric version, is not the same link.
    expect(
      mergeLinkedPrompts('[{"name":"a","version":1},{"name":"b","version":"2","x":null}]', [
        { name: 'a', version: '1' },
        { name: 'b', version: '2' },
        { name: 'a', version: '1' },
      ]),
    ).toBe(
      '[{"name": "a", "version": 1}, {"name": "b", "version": "2", "x": null}, ' +
        '{"name": "a", "version": "1"}, {"name": "b", "version": "2"}]',
    );
    expect(() => mergeLinkedPrompts('x', [{ name: 'a', version: '1' }])).toThrow(
      "Invalid JSON format for 'mlflow.linkedPrompts' tag: x",
    );
    expect(() => mergeLinkedPrompts('"a"', [{ name: 'a', version: '1' }])).toThrow(
      `Invalid format for 'mlflow.linkedPrompts' tag: "a"`,
    );
    const many = Array.from({ length: 300 }, (_, i) => ({ name: `p${i}`, version: '1' }));
    expect(() => mergeLinkedPrompts(undefined, many)).toThrow('a tag value holds at most 8000');
  });
});

describe("a trace's traces.json behind the artifact proxy", () => {
  test('proxied locations map to the proxy route; others are not served', () => {
    const file = '/api/2.0/mlflow-artifacts/artifacts/1/traces/tr-1/artifacts/traces.json?trace_data=true';
    expect(traceDataProxyPath('mlflow-artifacts:/1/traces/tr-1/artifacts')).toBe(file);
    expect(traceDataProxyPath('mlflow-artifacts://host:5000/1/traces/tr-1/artifacts')).toBe(file);
    expect(
      traceDataProxyPath('https://mlflow.example/api/2.0/mlflow-artifacts/artifacts/1/traces/tr-1/artifacts'),
    ).toBe(file);
    expect(traceDataProxyPath('mlflow-artifacts:/my exp/traces/tr-1/artifacts')).toBe(
      '/api/2.0/mlflow-artifacts/artifacts/my%20exp/traces/tr-1/artifacts/traces.json?trace_data=true',
    );
    expect(traceDataProxyPath('s3://bucket/1/traces/tr-1/artifacts')).toBeUndefined();
    expect(traceDataProxyPath('https://example.com/1/traces/tr-1/artifacts')).toBeUndefined();
  });
});
