import type { Schema } from '@mast/common';
import { endKeepAliveWhenClosing, MLFLOW_COMPATIBLE_VERSION, MlflowError } from '@mast/common';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { AdaptiveBatcher, type Feeds } from './batching.js';
import { castBySchema } from './domain/cast.js';
import { enforceInputSchema, enforceParams } from './domain/enforce.js';
import type { ModelInput } from './domain/model-input.js';
import { InferenceRequestError, inferResponse, modelMetadata, parseInferRequest } from './domain/oip.js';
import { decodeSignatureRequest, inferStyle, signatureInferResponse } from './domain/oip-codecs.js';
import { predictionFailed, unexpectedModelError } from './domain/prediction-error.js';
import { predictionsJson } from './domain/predictions.js';
import {
  contentFormat,
  parseCsvRequest,
  parseJsonRequest,
  type RawInput,
  UnsupportedMediaTypeError,
} from './domain/scoring-request.js';
import type { LoadedModel } from './flavors/index.js';
import { createMetrics } from './metrics.js';

export interface ModelServerOptions {
  /** Loads the model; called once when the app becomes ready (`app.ready()` or `listen`). */
  load: () => Promise<LoadedModel>;
  /** The model's name in the Open Inference Protocol routes (`/v2/models/{name}`); default `model`. */
  modelName?: string;
  /**
   * The registered model version served, when known (`registered_model_meta`): listed in the model's
   * metadata, and the only version `/v2/models/{name}/versions/{version}` answers for. Unknown: every
   * version asked for is the one model.
   */
  modelVersion?: string;
  /** Adaptive batching (see AdaptiveBatcher); off when absent. */
  batching?: { maxBatchSize: number; maxWaitMs: number };
  /** The largest request body accepted, in bytes (413 above it); default 32 MiB. */
  bodyLimitBytes?: number;
  /** A request's time limit in ms (504 after it); default 60 s, MLflow's `--timeout`. */
  requestTimeoutMs?: number;
  /** A pino logger (the process's), or Fastify's logger options. */
  logger: FastifyBaseLogger | boolean | { level: string };
}

const DEFAULT_BODY_LIMIT = 32 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 60_000;

/** ONNX models are served under Triton's platform name in the Open Inference Protocol's metadata. */
const OIP_PLATFORMS: Record<string, string> = { onnx: 'onnxruntime_onnx' };

/** The routes and the one method each answers (GET ones answer HEAD too), for 405s. */
const ONE_METHOD_ROUTES: ReadonlyArray<readonly [RegExp, 'GET' | 'POST']> = [
  [/^\/(ping|health|version|metrics)$/, 'GET'],
  [/^\/invocations$/, 'POST'],
  [/^\/v2\/models\/[^/]+(\/versions\/[^/]+)?\/infer$/, 'POST'],
  [/^\/v2(\/health\/(live|ready)|\/models\/[^/]+(\/versions\/[^/]+)?(\/ready)?)?$/, 'GET'],
];

/**
 * Sends JSON text under `application/json` exactly, as MLflow's server (Starlette) labels it: an
 * identity serializer keeps Fastify from appending `; charset=utf-8`.
 */
function sendJson(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).serializer(identity).type('application/json').send(text);
}

const identity = (payload: unknown) => payload as string;

/** Starlette's answer to a path no route takes (MLflow's scoring server is a FastAPI app). */
const NOT_FOUND = '{"detail":"Not Found"}';

/** Whether a request is the Open Inference Protocol's, which answers errors as `{"error": ...}`. */
function isOip(request: FastifyRequest): boolean {
  return request.url.startsWith('/v2');
}

function isLogger(logger: ModelServerOptions['logger']): logger is FastifyBaseLogger {
  return typeof logger === 'object' && typeof (logger as FastifyBaseLogger).info === 'function';
}

/** The columns a CSV body keeps as text: those the signature declares as string, binary or datetime. */
function textColumns(schema: Schema | undefined): string[] {
  if (schema?.kind !== 'columns') return [];
  return schema.columns.flatMap((column) =>
    column.name !== undefined && ['string', 'binary', 'datetime'].includes(column.type as string)
      ? [column.name]
      : [],
  );
}

/**
 * The model server's Fastify app, not yet listening: MLflow's scoring protocol (spec 5: `/ping`,
 * `/health`, `/version`, `/invocations`), the Open Inference Protocol v2 REST routes (`/v2/...`),
 * Prometheus `/metrics`. The model loads once the app is ready; until it has loaded `/ping` answers
 * 404 (as MLflow's does without a model) and scoring 503, and a load failure is logged with its
 * reason and leaves it so. Closing the app finishes the requests in flight, then releases the model.
 */
export function buildModelServer(options: ModelServerOptions): FastifyInstance {
  const bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT;
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const modelName = options.modelName ?? 'model';
  const app = Fastify({
    ...(isLogger(options.logger) ? { loggerInstance: options.logger } : { logger: options.logger }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    // While closing, a request whose bytes arrived before the signal is still answered (with
    // `Connection: close`), as uvicorn answers what it has begun reading; Fastify's 503 would refuse it
    // with a body no MLflow client reads. New connections are already refused by the closed listener.
    return503OnClosing: false,
    // Registered model names (the OIP routes' `{name}`) run past Fastify's default of 100 characters.
    routerOptions: { maxParamLength: 1000 },
    // A URL Fastify cannot route (a malformed %-escape, an over-long segment) answers as a path no
    // route takes: Starlette's 404 (it matches the undecoded path), the OIP's `{"error"}`.
    frameworkErrors: (error, request, reply) => {
      const answer = reply as FastifyReply;
      if (isOip(request)) return answer.code(error.statusCode ?? 400).send({ error: error.message });
      return sendJson(answer, 404, NOT_FOUND);
    },
  }) as unknown as FastifyInstance;
  const metrics = createMetrics();

  let model: LoadedModel | undefined;
  let loading: Promise<void> | undefined;
  let loadFailed = false;
  /** The names of the params the model's signature declares (the rest of a JSON body is input). */
  let paramNames: string[] = [];
  /** Runs feeds through the loaded model, timed (set once it has loaded). */
  let run: (feeds: Feeds) => Feeds | Promise<Feeds> = () => {
    throw new Error('the model is not loaded');
  };
  let batcher: AdaptiveBatcher | undefined;

  /**
   * Resolves when the event loop's current I/O phase ends: one setImmediate shared by every request
   * read in that phase. Without batching, those requests run the model there one after another, each
   * alone and each answered right after its run: the model's code and the HTTP stack's each stay hot
   * in the CPU caches instead of alternating per request (about a third less CPU per one-row request
   * on the benchmark), at the cost of microseconds of latency.
   */
  let ioPhaseEnd: Promise<void> | undefined;
  const endOfIoPhase = () =>
    (ioPhaseEnd ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        ioPhaseEnd = undefined;
        resolve();
      }),
    ));

  app.addHook('onReady', async () => {
    loading = options.load().then(
      (loaded) => {
        model = loaded;
        paramNames = (loaded.mlmodel.signature?.params ?? []).map((param) => param.name);
        run = (feeds) => {
          const stop = metrics.inferenceDuration.startTimer();
          try {
            const outputs = loaded.run(feeds);
            if (outputs instanceof Promise) return outputs.finally(stop);
            stop();
            return outputs;
          } catch (error) {
            stop();
            throw error;
          }
        };
        if (options.batching)
          batcher = new AdaptiveBatcher(run, options.batching, (rows) => metrics.batchRows.observe(rows));
        // Batching is named here: an operator checks that MAST_BATCHING or --max-batch-size took effect.
        const batching = options.batching
          ? `adaptive batching up to ${options.batching.maxBatchSize} rows, ${options.batching.maxWaitMs} ms wait`
          : 'no batching';
        app.log.info(
          `model loaded from ${loaded.modelDir} (flavor ${loaded.flavor}; inputs ${loaded.inputs.map((i) => i.name).join(', ')}; ${batching})`,
        );
      },
      (error: unknown) => {
        loadFailed = true;
        // One line with the reason (a corrupt file, a missing input): Node's frames do not help an operator.
        app.log.error(`the model failed to load: ${(error as Error)?.message ?? String(error)}`);
      },
    );
  });
  endKeepAliveWhenClosing(app);
  app.addHook('onClose', async () => {
    await loading;
    await batcher?.drain();
    await model?.close();
  });

  // Bodies are read as text whatever their type: /invocations answers an unsupported type with
  // MLflow's 415, and parses JSON and CSV itself. A UTF-8 byte order mark (Excel's CSV, PowerShell)
  // is dropped, as Python's json.loads of bytes and pandas' read_csv drop it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) =>
    done(null, (body as string).charCodeAt(0) === 0xfeff ? (body as string).slice(1) : body),
  );

  const errorCodes = new WeakMap<FastifyRequest, string>();
  // A callback hook, not an async one: it runs for every request, and a promise per request shows
  // in the batch-1 benchmark.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requestDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    if (reply.statusCode >= 400)
      metrics.errors.inc({ route, error_code: errorCodes.get(request) ?? String(reply.statusCode) });
    done();
  });

  app.setErrorHandler((caught: FastifyError, request, reply) => {
    let error = caught;
    // Fastify refuses a Content-Type it cannot parse (no `type/subtype`) before the route runs;
    // MLflow answers it as any other type it does not take: its 415 text (contentFormat throws it).
    if (caught.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' && request.routeOptions.url === '/invocations')
      try {
        contentFormat(request.headers['content-type']);
      } catch (refusal) {
        error = refusal as FastifyError;
      }
    if (error instanceof UnsupportedMediaTypeError) {
      errorCodes.set(request, 'UNSUPPORTED_MEDIA_TYPE');
      return reply.code(415).type('text/plain; charset=utf-8').send(error.message);
    }
    let status: number;
    let mlflowError: MlflowError;
    if (error instanceof MlflowError) {
      status = error.httpStatus;
      mlflowError = error;
    } else if (error instanceof InferenceRequestError) {
      status = 400;
      mlflowError = new MlflowError('BAD_REQUEST', error.message);
    } else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      status = 413;
      mlflowError = new MlflowError(
        'BAD_REQUEST',
        `The request body is larger than the limit of ${bodyLimit} bytes.`,
      );
    } else if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      status = error.statusCode;
      mlflowError = new MlflowError('BAD_REQUEST', error.message);
    } else {
      request.log.error({ err: error }, 'request failed');
      status = 500;
      mlflowError = new MlflowError('INTERNAL_ERROR', 'Internal server error');
    }
    errorCodes.set(request, mlflowError.code);
    if (isOip(request)) return reply.code(status).send({ error: mlflowError.message });
    // MLflow's timeout middleware answers its bare text under application/json.
    if (mlflowError.code === 'DEADLINE_EXCEEDED') return sendJson(reply, status, mlflowError.message);
    return sendJson(reply, status, JSON.stringify(mlflowError.toJSON()));
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = ONE_METHOD_ROUTES.find(([pattern]) => pattern.test(path))?.[1];
    // MLflow's scoring server is a FastAPI app: its 404 and 405 are Starlette's `{"detail": ...}`.
    if (allowed !== undefined) {
      reply.code(405).header('allow', allowed === 'GET' ? 'GET, HEAD' : allowed);
      if (isOip(request))
        return reply.send({ error: `Method ${request.method} is not allowed for ${path}; use ${allowed}.` });
      return sendJson(reply, 405, '{"detail":"Method Not Allowed"}');
    }
    if (isOip(request)) return reply.code(404).send({ error: `No route for ${request.method} ${path}` });
    // Starlette redirects a path with a trailing slash to the route without it (redirect_slashes).
    const bare = path.replace(/\/+$/, '');
    if (bare !== path && ONE_METHOD_ROUTES.some(([pattern]) => pattern.test(bare)))
      return reply
        .code(307)
        .header('location', `${request.protocol}://${request.host}${bare}${request.url.slice(path.length)}`)
        .send('');
    return sendJson(reply, 404, NOT_FOUND);
  });

  const loadedModel = (): LoadedModel => {
    if (model !== undefined) return model;
    throw new MlflowError(
      'TEMPORARILY_UNAVAILABLE',
      loadFailed ? "The model failed to load; see the server's log." : 'The model is loading; retry later.',
    );
  };

  /** Runs the work within the time limit; 504 (MLflow's text) after it. One promise and one timer. */
  const withinTimeLimit = <T>(work: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new MlflowError('DEADLINE_EXCEEDED', 'Request processing time exceeded limit')),
        timeoutMs,
      );
      work().then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });

  /**
   * Runs a request's feeds through the model (in a batch, or alone at the end of the I/O phase) and
   * answers with `answer(outputs)` in the same turn, so that an answer leaves as soon as its own run
   * is done. What is awaited (a place in a batch, an asynchronous model) is bounded by the time limit;
   * a model on this thread (onnx) cannot be interrupted. A failure of the model itself is MLflow's 400
   * "unexpected error"; `answer`'s own errors pass as they are.
   */
  const score = <T>(feeds: Feeds, request: FastifyRequest, answer: (outputs: Feeds) => T): Promise<T> => {
    const modelFailed = (error: unknown): never => {
      if (error instanceof MlflowError) throw error;
      request.log.warn({ err: error }, 'the model failed on a request');
      throw unexpectedModelError(error);
    };
    if (batcher !== undefined) return withinTimeLimit(() => batcher!.submit(feeds)).then(answer, modelFailed);
    return endOfIoPhase().then(() => {
      metrics.batchRows.observe(Object.values(feeds)[0]?.shape[0] ?? 0);
      let outputs: Feeds | Promise<Feeds>;
      try {
        outputs = run(feeds);
      } catch (error) {
        return modelFailed(error);
      }
      return outputs instanceof Promise
        ? withinTimeLimit(() => outputs).then(answer, modelFailed)
        : answer(outputs);
    });
  };

  // MLflow's scoring protocol (spec 5.1): health answers "\n" once the model is loaded.
  const ping = async (_request: FastifyRequest, reply: FastifyReply) =>
    sendJson(reply, model === undefined ? 404 : 200, '\n');
  app.get('/ping', ping);
  app.get('/health', ping);
  app.get('/version', async (_request, reply) => sendJson(reply, 200, MLFLOW_COMPATIBLE_VERSION));

  app.post('/invocations', async (request, reply) => {
    const loaded = loadedModel();
    const format = contentFormat(request.headers['content-type']);
    const body = typeof request.body === 'string' ? request.body : '';
    const parsed =
      format === 'json'
        ? parseJsonRequest(body, paramNames)
        : parseCsvRequest(body, textColumns(loaded.mlmodel.signature?.inputs));
    // (The unified LLM form is passed on uncast, as MLflow passes it.)
    const { input, feeds } = typedFeeds(loaded, parsed.input, {
      csv: format === 'csv',
      cast: !parsed.unwrapped,
      params: parsed.params,
    });
    return score(feeds, request, (outputs) =>
      sendJson(reply, 200, predictionsJson(input, outputs, parsed.unwrapped)),
    );
  });

  // The Open Inference Protocol v2 (KServe, Triton, MLServer).
  const namedModel = (
    request: FastifyRequest<{ Params: { name: string; version?: string } }>,
  ): LoadedModel | undefined => {
    const { name, version } = request.params;
    if (name !== modelName) throw new ModelNotFound(name);
    if (version !== undefined && options.modelVersion !== undefined && version !== options.modelVersion)
      throw new ModelNotFound(name, version);
    return model;
  };
  app.get('/v2', async () => ({
    name: 'mast-model-server',
    version: MLFLOW_COMPATIBLE_VERSION,
    extensions: [],
  }));
  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_request, reply) =>
    reply.code(model === undefined ? 503 : 200).send({ ready: model !== undefined }),
  );
  // Each model route also answers under `/versions/{version}` (the served version, or any when unknown).
  for (const base of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    app.get<{ Params: { name: string } }>(`${base}/ready`, async (request, reply) => {
      const found = namedModel(request);
      return reply
        .code(found === undefined ? 503 : 200)
        .send({ name: modelName, ready: found !== undefined });
    });
    // The ONNX graph's tensors, not MLServer's signature columns (`to_metadata_tensors`, FP64 [-1, 1]):
    // a Triton-style client builds tensor-named requests from the metadata, and where a signature
    // column bears a graph input's name such a request would not fit the graph. MLServer-style
    // requests are recognized by their names or content types instead (inferStyle).
    app.get<{ Params: { name: string } }>(base, async (request) => {
      namedModel(request);
      const loaded = loadedModel();
      return modelMetadata(
        modelName,
        options.modelVersion === undefined ? [] : [options.modelVersion],
        OIP_PLATFORMS[loaded.flavor] ?? loaded.flavor,
        loaded.inputs,
        loaded.outputs,
      );
    });
    app.post<{ Params: { name: string } }>(`${base}/infer`, async (request, reply) => {
      namedModel(request);
      const loaded = loadedModel();
      let body: unknown;
      try {
        body = JSON.parse(typeof request.body === 'string' ? request.body : '');
      } catch (error) {
        throw new InferenceRequestError(`The request body is not valid JSON: ${(error as Error).message}`);
      }
      const parsed = parseInferRequest(body);
      const signature = loaded.mlmodel.signature;
      const style = inferStyle(
        parsed,
        loaded.inputs.map((info) => info.name),
        signature?.inputs,
      );
      if (style === 'signature') {
        // MLServer's MLflow runtime: decoded into what pyfunc's predict takes, then the same typing,
        // enforcement and feeds as /invocations.
        const { input, feeds } = typedFeeds(loaded, decodeSignatureRequest(parsed, signature?.inputs));
        return score(feeds, request, (outputs) =>
          reply.send(signatureInferResponse(modelName, parsed, input, outputs, options.modelVersion)),
        );
      }
      let feeds: Feeds;
      try {
        feeds = loaded.toFeeds({ kind: 'tensors', tensors: parsed.inputs });
      } catch (error) {
        if (error instanceof MlflowError) throw error;
        throw new InferenceRequestError((error as Error).message);
      }
      return score(feeds, request, (outputs) =>
        reply.send(inferResponse(modelName, parsed, outputs, options.modelVersion)),
      );
    });
  }

  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  return app;
}

/**
 * A request's parsed data through MLflow's scoring path (spec 5.2; `mlflow/pyfunc/scoring_server`
 * and pyfunc's `predict`): typed by the signature as parsing types it (`castBySchema`, pandas
 * `astype` / numpy arrays; skipped when `cast` is false), the schema and the params enforced, then
 * mapped to the flavor's feeds. Returns the enforced input (its kind shapes the answer) and the
 * feeds. Throws MLflow's errors (`predictionFailed`: 400 with MLflow's codes and texts).
 */
function typedFeeds(
  loaded: LoadedModel,
  raw: RawInput,
  { csv = false, cast = true, params }: { csv?: boolean; cast?: boolean; params?: unknown } = {},
): { input: ModelInput; feeds: Feeds } {
  const signature = loaded.mlmodel.signature;
  const data = cast ? castBySchema(raw, signature?.inputs, csv) : raw;
  let input: ModelInput;
  try {
    input = enforceInputSchema(data, signature?.inputs);
  } catch (error) {
    throw predictionFailed(data, error, signature?.inputs, true, !cast);
  }
  try {
    // The ONNX flavor takes no params; they are still checked against the signature, as MLflow does.
    enforceParams(params, signature?.params);
    return { input, feeds: loaded.toFeeds(input) };
  } catch (error) {
    throw predictionFailed(data, error, signature?.inputs, false, !cast);
  }
}

/** An Open Inference Protocol request for a model this server does not serve (404). */
class ModelNotFound extends MlflowError {
  constructor(name: string, version?: string) {
    const model = version === undefined ? `Model '${name}'` : `Version ${version} of model '${name}'`;
    super('RESOURCE_DOES_NOT_EXIST', `${model} is not served here.`);
  }
}
