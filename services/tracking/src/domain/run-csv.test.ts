import { describe, expect, test } from '@jest/globals';
import type { RunRecord } from './records.js';
import { csvField, runCsvHeader, runCsvLine } from './run-csv.js';

const run: RunRecord = {
  info: {
    runId: 'abc',
    experimentId: 7,
    name: 'lr=0.1, "fast"',
    userId: '',
    status: 'FINISHED',
    startTime: 86_400_000,
    endTime: null,
    artifactUri: 's3://bucket/7/abc',
    lifecycleStage: 'active',
  },
  latestMetrics: [
    { key: 'loss', value: Number.NaN, timestamp: 1, step: 0 },
    { key: 'acc', value: 0.5, timestamp: 1, step: 0 },
  ],
  params: [{ key: 'lr', value: '0.1' }],
  tags: [{ key: 'note', value: 'two\nlines' }],
  datasetInputs: [],
  modelInputs: [],
};

describe('runs as CSV', () => {
  test('fields are quoted only when RFC 4180 needs it, quotes doubled', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('cr\rlf')).toBe('"cr\rlf"');
  });

  test('the header names columns as mlflow.search_runs() does', () => {
    expect(runCsvHeader({ metrics: ['acc'], params: ['lr'], tags: ['note'] })).toBe(
      'run_id,run_name,experiment_id,status,user_id,start_time,end_time,artifact_uri,metrics.acc,params.lr,tags.note\r\n',
    );
  });

  test('a line: attributes, ISO times, NaN as MLflow writes it, empty where the run has no value', () => {
    expect(runCsvLine(run, { metrics: ['loss', 'acc', 'missing'], params: ['lr'], tags: ['note'] })).toBe(
      'abc,"lr=0.1, ""fast""",7,FINISHED,,1970-01-02T00:00:00.000Z,,s3://bucket/7/abc,NaN,0.5,,0.1,"two\nlines"\r\n',
    );
  });
});
