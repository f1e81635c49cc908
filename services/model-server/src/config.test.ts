import { describe, expect, test } from '@jest/globals';
import { ConfigError, loadConfig } from '@mast/common';
import { DEFAULT_MODEL_DIR, modelServerConfig } from './config.js';

describe('modelServerConfig', () => {
  test('defaults: /opt/ml/model, batching off, 60 s time limit', () => {
    expect(loadConfig({}, [modelServerConfig]).modelServer).toEqual({
      modelDir: DEFAULT_MODEL_DIR,
      modelName: undefined,
      batching: undefined,
      requestTimeoutMs: 60_000,
    });
  });

  test('batching and MLflow time limit from the environment', () => {
    const config = loadConfig(
      {
        MAST_MODEL_DIR: '/models/churn',
        MAST_MODEL_NAME: 'churn',
        MAST_BATCHING: 'true',
        MAST_BATCH_MAX_SIZE: '32',
        MAST_BATCH_MAX_WAIT_MS: '0',
        MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT: '5',
      },
      [modelServerConfig],
    );
    expect(config.modelServer).toEqual({
      modelDir: '/models/churn',
      modelName: 'churn',
      batching: { maxBatchSize: 32, maxWaitMs: 0 },
      requestTimeoutMs: 5000,
    });
  });

  test('every mistake in one line', () => {
    const load = () =>
      loadConfig({ MAST_BATCHING: 'maybe', MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT: '0' }, [modelServerConfig]);
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(
      "MAST_BATCHING: expected true or false, got 'maybe'; MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT: expected a positive integer, got '0'",
    );
  });
});
