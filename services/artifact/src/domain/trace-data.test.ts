import { describe, expect, test } from '@jest/globals';
import { TRACE_DATA_QUERY } from '@mast/common';
import { isTraceDataMissing, isTraceDataRequest, traceDataNotFound } from './trace-data.js';

describe('trace span data behind the proxy download', () => {
  test('only trace_data=true marks the span download', () => {
    expect(TRACE_DATA_QUERY).toBe('trace_data');
    expect(isTraceDataRequest({ trace_data: 'true' })).toBe(true);
    for (const query of [{}, { trace_data: '1' }, { trace_data: 'True' }, { trace_data: ['true'] }, null]) {
      expect(isTraceDataRequest(query)).toBe(false);
    }
  });

  test('no file and an empty file are both absent span data, as MLflow’s try_read_trace_data', () => {
    expect(isTraceDataMissing(undefined)).toBe(true);
    expect(isTraceDataMissing(0)).toBe(true);
    expect(isTraceDataMissing(1)).toBe(false);
  });

  test('absent span data is MLflow’s MlflowTraceDataNotFound: 404 NOT_FOUND naming the path', () => {
    const error = traceDataNotFound('1/traces/tr-1/artifacts/traces.json');
    expect({ status: error.httpStatus, body: error.toJSON() }).toEqual({
      status: 404,
      body: {
        error_code: 'NOT_FOUND',
        message: 'Trace data not found for path=1/traces/tr-1/artifacts/traces.json',
      },
    });
  });
});
