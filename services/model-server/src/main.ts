import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertPortBindable, httpConfig, listen, loadConfig, runProcess } from '@mast/common';
import { parse as parseYaml } from 'yaml';
import { modelServerConfig } from './config.js';
import { loadModel } from './flavors/index.js';
import { buildModelServer } from './server.js';

/**
 * The model server process (`node services/model-server/dist/main.js`), the process inside serving
 * images: serves the model in `MAST_MODEL_DIR` on `MAST_HOST:MAST_PORT` (MLflow's `MLFLOW_HOST` and
 * `MLFLOW_PORT` are read when those are unset; defaults 127.0.0.1:5000 as `mlflow models serve`;
 * images set 0.0.0.0:8080, see SERVING_IMAGE_ENV).
 */
await runProcess('model-server', async (context) => {
  const env = process.env;
  const fromMlflow = (mast: string, mlflow: string) =>
    env[mast] ? {} : env[mlflow] ? { [mast]: env[mlflow] } : {};
  const hostPort = { ...fromMlflow('MAST_HOST', 'MLFLOW_HOST'), ...fromMlflow('MAST_PORT', 'MLFLOW_PORT') };
  const config = loadConfig({ ...env, ...hostPort }, [httpConfig, modelServerConfig], {
    sources: Object.fromEntries(
      Object.keys(hostPort).map((variable) => [variable, variable.replace('MAST_', 'MLFLOW_')]),
    ),
  });
  context.shutdownTimeoutMs = config.shutdownTimeoutMs;
  await assertPortBindable(config.host, config.port);
  const { modelDir } = config.modelServer;
  const registered = await registeredModelMeta(modelDir);
  const app = buildModelServer({
    load: () => loadModel(modelDir),
    modelName: config.modelServer.modelName ?? registered.name ?? 'model',
    modelVersion: registered.version,
    batching: config.modelServer.batching,
    bodyLimitBytes: config.bodyLimit,
    requestTimeoutMs: config.modelServer.requestTimeoutMs,
    logger: { level: config.logLevel },
  });
  await listen(context, app, { host: config.host, port: config.port });
});

/**
 * The registered model's name and version that MLflow writes beside a downloaded model
 * (`registered_model_meta`: `model_name`, `model_version`); empty when the file is absent or unreadable.
 */
async function registeredModelMeta(modelDir: string): Promise<{ name?: string; version?: string }> {
  try {
    const meta = parseYaml(await readFile(join(modelDir, 'registered_model_meta'), 'utf8')) as {
      model_name?: unknown;
      model_version?: unknown;
    };
    const version = meta?.model_version;
    return {
      name: typeof meta?.model_name === 'string' ? meta.model_name : undefined,
      version: typeof version === 'string' || typeof version === 'number' ? String(version) : undefined,
    };
  } catch {
    return {};
  }
}
