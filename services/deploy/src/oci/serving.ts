import { SERVING_IMAGE_ENV } from '@mast/model-server';

/** Where the model directory lands in every model image: MLflow's container path (`/opt/ml/model`). */
export const MODEL_DIR = SERVING_IMAGE_ENV.MAST_MODEL_DIR;

/** The port both serving stacks listen on: MLflow's container (nginx, spec mlflow-registry-models §6.1). */
export const SERVING_PORT = Number(SERVING_IMAGE_ENV.MAST_PORT);

/** Entry point, command and environment that make a base image serve the model at MODEL_DIR. */
export interface ServingDefaults {
  entrypoint?: string[];
  cmd?: string[];
  env: Record<string, string>;
  exposedPorts: string[];
}

/**
 * The serving settings for a model flavor (issue 12). `onnx`: Mast's model-server image keeps its own
 * entry point (`node services/model-server/dist/main.js`) and is told where to listen and where the
 * model is (`MAST_HOST`, `MAST_PORT`, `MAST_MODEL_DIR`).
 * Every other flavor runs on a Python base with `mlflow` installed, started as `mlflow models
 * build-docker` starts it (spec mlflow-registry-models §6.1): `C._serve('local')` from
 * `mlflow.models.container`, reading `/opt/ml/model`. The builder cannot run `pip` (no daemon, no
 * build steps), so `MLFLOW_DISABLE_ENV_CREATION` is False: the container installs the model's own
 * requirements into the base's Python when it starts.
 */
export function servingDefaults(flavor: string): ServingDefaults {
  const exposedPorts = [`${SERVING_PORT}/tcp`];
  if (flavor === 'onnx') {
    // Set in the model image too, so an image built on an older model-server base still serves from
    // outside the container.
    return { env: { ...SERVING_IMAGE_ENV }, exposedPorts };
  }
  return {
    entrypoint: ['python', '-c', "from mlflow.models import container as C; C._serve('local')"],
    env: { MLFLOW_DISABLE_ENV_CREATION: 'False', ENABLE_MLSERVER: 'False' },
    exposedPorts,
  };
}
