import {
  configFragment,
  nonNegativeInteger,
  optionalBoolean,
  optionalString,
  positiveInteger,
  stringWithDefault,
} from '@mast/common';

/** The model server's own settings (host, port, log level, body limit: common's `httpConfig`). */
export interface ModelServerConfig {
  modelServer: {
    /** The MLflow model directory served (MLflow's images use `/opt/ml/model`). */
    modelDir: string;
    /** The name in the Open Inference Protocol routes; unset: `registered_model_meta`'s, else `model`. */
    modelName?: string;
    /** Adaptive batching; undefined when off (the default). */
    batching?: { maxBatchSize: number; maxWaitMs: number };
    /** A scoring request's time limit (MLflow's `MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT`, seconds). */
    requestTimeoutMs: number;
  };
}

/** MLflow's serving images keep the model here. */
export const DEFAULT_MODEL_DIR = '/opt/ml/model';

/**
 * The environment a serving image sets: listen on every interface (a container's port must be
 * reachable from outside it) on MLflow's container port 8080, the model where MLflow's images keep it.
 */
export const SERVING_IMAGE_ENV = {
  MAST_HOST: '0.0.0.0',
  MAST_PORT: '8080',
  MAST_MODEL_DIR: DEFAULT_MODEL_DIR,
} as const;

/**
 * `MAST_MODEL_DIR`, `MAST_MODEL_NAME`, `MAST_BATCHING`, `MAST_BATCH_MAX_SIZE` (rows, default 64),
 * `MAST_BATCH_MAX_WAIT_MS` (default 2; 0 waits only for the requests read in the same I/O phase) and
 * MLflow's `MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT` (seconds, default 60).
 */
export const modelServerConfig = configFragment(
  'model-server',
  {
    MAST_MODEL_DIR: stringWithDefault(DEFAULT_MODEL_DIR),
    MAST_MODEL_NAME: optionalString,
    MAST_BATCHING: optionalBoolean,
    MAST_BATCH_MAX_SIZE: positiveInteger(64),
    MAST_BATCH_MAX_WAIT_MS: nonNegativeInteger(2),
    MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT: positiveInteger(60),
  },
  (e): ModelServerConfig => ({
    modelServer: {
      modelDir: e.MAST_MODEL_DIR,
      modelName: e.MAST_MODEL_NAME,
      batching: e.MAST_BATCHING
        ? { maxBatchSize: e.MAST_BATCH_MAX_SIZE, maxWaitMs: e.MAST_BATCH_MAX_WAIT_MS }
        : undefined,
      requestTimeoutMs: e.MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT * 1000,
    },
  }),
);
