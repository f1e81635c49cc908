import * as ort from 'onnxruntime-node';
import { buildModelServer, type LoadedModel, loadModel, type ModelServerOptions } from '../../src/index.js';

/** A model server listening on a loopback port, and a small client for it. */
export interface RunningServer {
  url: string;
  close(): Promise<void>;
  /** POSTs a body with a content type; returns status, content type and the body (JSON when it parses). */
  post(path: string, body: string | object, contentType?: string): Promise<Reply>;
  get(path: string): Promise<Reply>;
}

export interface Reply {
  status: number;
  contentType: string;
  text: string;
  json: any;
}

async function reply(response: Response): Promise<Reply> {
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, json };
}

/** Starts a server on 127.0.0.1 (port 0) and waits until `/ping` answers (or `waitForModel: false`). */
export async function startServer(
  options: Partial<ModelServerOptions> & { modelDir?: string; waitForModel?: boolean },
): Promise<RunningServer> {
  const { modelDir, waitForModel = true, ...rest } = options;
  const app = buildModelServer({
    load: () => loadModel(modelDir!),
    logger: { level: 'silent' },
    ...rest,
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const server: RunningServer = {
    url,
    close: () => app.close(),
    post: async (path, body, contentType = 'application/json') =>
      reply(
        await fetch(`${url}${path}`, {
          method: 'POST',
          headers: { 'content-type': contentType },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        }),
      ),
    get: async (path) => reply(await fetch(`${url}${path}`)),
  };
  if (waitForModel) {
    const deadline = Date.now() + 30_000;
    while ((await server.get('/ping')).status !== 200) {
      if (Date.now() > deadline) throw new Error('the model did not load within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  return server;
}

/** Runs a model file with onnxruntime directly: the reference the server's predictions must equal. */
export async function referenceRun(
  modelDir: string,
  feeds: Record<string, ort.Tensor>,
): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(`${modelDir}/model.onnx`);
  try {
    return (await session.run(feeds)) as Record<string, ort.Tensor>;
  } finally {
    await session.release();
  }
}

/** A loaded model whose every call waits `delayMs` first (for time-limit and shutdown tests). */
export async function slowModel(modelDir: string, delayMs: number): Promise<LoadedModel> {
  const model = await loadModel(modelDir);
  return {
    flavor: model.flavor,
    modelDir: model.modelDir,
    mlmodel: model.mlmodel,
    inputs: model.inputs,
    outputs: model.outputs,
    toFeeds: (input) => model.toFeeds(input),
    run: async (feeds) => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return model.run(feeds);
    },
    close: () => model.close(),
  };
}
