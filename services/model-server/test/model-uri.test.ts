/** @jest-environment ./services/model-server/test/support/onnx-environment.cjs */
/**
 * `serveModel` end to end on model URIs: Mast's all-in-one server on PostgreSQL holds a run whose
 * artifacts (an ONNX model directory) were uploaded through the mlflow-artifacts proxy and a registered
 * model with alias `champion`; the model is resolved through the registry, downloaded through the
 * artifact service and scored on `/invocations` over real HTTP.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { HttpClient } from '@mast/test-support';
import { useAllInOne } from '../../gateway/test/harness.js';
import { freePort } from '../../gateway/test/processes.js';
import { fetchModel } from '../src/model-uri/index.js';
import { type ServedModel, serveModel } from '../src/serve.js';
import { filesUnder, LINEAR_INPUT, LINEAR_OUTPUT, logAndRegister, numbers } from './serve-support.js';
import { generateTestModels } from './support/models.js';

const API = '/api/2.0/mlflow';

/** Scores the linear model's input and checks its predictions. */
async function expectPredictions(served: ServedModel): Promise<void> {
  const response = await fetch(`${served.url}/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(LINEAR_INPUT),
  });
  expect([response.status, response.status === 200 ? '' : await response.clone().text()]).toEqual([200, '']);
  const predictions = numbers(((await response.json()) as { predictions: unknown }).predictions);
  expect(predictions).toHaveLength(LINEAR_OUTPUT.length);
  for (const [i, value] of predictions.entries()) expect(value).toBeCloseTo(LINEAR_OUTPUT[i]!, 4);
}

describe('serveModel on model URIs through the registry and artifact services', () => {
  const mast = useAllInOne({ name: 'mast-serve-artifacts-', postgres: true });
  let http: HttpClient;
  let trackingUri: string;
  let modelDir: string;
  let runId: string;
  let artifactUri: string;
  const downloadRoot = mkdtempSync(join(tmpdir(), 'mast-serve-downloads-'));
  const serve = (modelUri: string) =>
    serveModel({ modelUri, trackingUri, host: '127.0.0.1', port: 0, logger: false, downloadRoot });

  beforeAll(async () => {
    modelDir = (await generateTestModels()).linear;
    ({ url: trackingUri, http } = mast);
    ({ runId, artifactUri } = await logAndRegister(trackingUri, modelDir, 'churn'));
  });

  afterAll(() => rmSync(downloadRoot, { recursive: true, force: true }));

  test('models:/churn@champion is resolved, downloaded, served and scored', async () => {
    const served = await serve('models:/churn@champion');
    try {
      expect(served.kind).toBe('mast');
      expect(served.model.registeredVersion).toEqual({ name: 'churn', version: '1' });
      expect(served.model.source).toBe(`models:/churn@champion -> runs:/${runId}/model`);
      // Every file of the logged model, plus MLflow's registered_model_meta.
      expect(filesUnder(served.model.dir)).toEqual([...filesUnder(modelDir), 'registered_model_meta'].sort());
      expect(readFileSync(join(served.model.dir, 'registered_model_meta'), 'utf8')).toBe(
        "model_name: churn\nmodel_version: '1'\n",
      );
      expect(relative(downloadRoot, served.model.dir).startsWith('..')).toBe(false);
      await expectPredictions(served);
    } finally {
      await served.close();
    }
    expect(existsSync(served.model.dir)).toBe(false);
  });

  test('every registry form resolves: version, latest, stage; an mlflow-artifacts source goes through the proxy', async () => {
    const staged = await http.post(`${API}/model-versions/transition-stage`, {
      name: 'churn',
      version: '2',
      stage: 'Production',
    });
    expect(staged.status).toBe(200);
    const expected = [
      ['models:/churn/1', '1', `runs:/${runId}/model`],
      ['models:/churn/latest', '2', '/api/2.0/mlflow-artifacts/artifacts/0/'],
      ['models:/churn/production', '2', '/api/2.0/mlflow-artifacts/artifacts/0/'],
    ] as const;
    for (const [uri, version, via] of expected) {
      const fetched = await fetchModel(uri, { trackingUri, downloadRoot });
      try {
        expect(fetched.registeredVersion).toEqual({ name: 'churn', version });
        expect(fetched.source).toContain(via);
        expect(filesUnder(fetched.dir)).toContain('model.onnx');
        expect(readFileSync(join(fetched.dir, 'model.onnx'))).toEqual(
          readFileSync(join(modelDir, 'model.onnx')),
        );
      } finally {
        await fetched.remove();
      }
    }
  });

  test('models:/<model_id> (an MLflow 3 logged model) is read from its artifact location', async () => {
    const created = await http.post(`${API}/logged-models`, { experiment_id: '0', name: 'churn-logged' });
    expect(created.status).toBe(200);
    const { model_id: modelId, artifact_uri: artifactUri } = created.body.model.info;
    const root = (artifactUri as string).replace(/^mlflow-artifacts:\//, '');
    for (const file of filesUnder(modelDir)) {
      const upload = await fetch(`${trackingUri}/api/2.0/mlflow-artifacts/artifacts/${root}/${file}`, {
        method: 'PUT',
        body: readFileSync(join(modelDir, file)),
      });
      expect(upload.status).toBe(200);
    }
    const served = await serve(`models:/${modelId}`);
    try {
      expect(served.model.registeredVersion).toBeUndefined();
      expect(served.model.source).toBe(
        `models:/${modelId} -> ${trackingUri}/api/2.0/mlflow-artifacts/artifacts/${root}`,
      );
      await expectPredictions(served);
    } finally {
      await served.close();
    }
  });

  test('artifact proxy URIs (mlflow-artifacts:/, with a host, the proxy URL) are downloaded whole', async () => {
    const path = `${artifactUri.replace(/^mlflow-artifacts:\//, '')}/model`;
    const host = new URL(trackingUri).host;
    const uris = [
      `${artifactUri}/model`,
      `${trackingUri}/api/2.0/mlflow-artifacts/artifacts/${path}`,
      // Names its server: the tracking URI only lends the scheme.
      `mlflow-artifacts://${host}/${path}`,
    ];
    for (const uri of uris) {
      const tracking = uri.startsWith('mlflow-artifacts://') ? 'http://tracking.invalid' : trackingUri;
      const fetched = await fetchModel(uri, { trackingUri: tracking, downloadRoot });
      try {
        expect(fetched.source).toBe(uri);
        expect(fetched.registeredVersion).toBeUndefined();
        expect(filesUnder(fetched.dir)).toEqual(filesUnder(modelDir));
      } finally {
        await fetched.remove();
      }
    }
  });

  test('runs:/<id>/model and a plain path serve the same predictions', async () => {
    for (const uri of [`runs:/${runId}/model`, modelDir]) {
      const served = await serve(uri);
      try {
        expect(served.model.registeredVersion).toBeUndefined();
        await expectPredictions(served);
      } finally {
        await served.close();
      }
    }
    // A local directory is served in place, never removed.
    expect(existsSync(join(modelDir, 'MLmodel'))).toBe(true);
  });

  test('bad URIs fail with one line naming what is missing', async () => {
    const failures: Array<[string, string | RegExp]> = [
      [
        'models:/nope@champion',
        'Cannot resolve models:/nope@champion: Registered Model with name=nope not found',
      ],
      ['models:/churn@missing', /^Cannot resolve models:\/churn@missing: .*alias missing/i],
      ['models:/churn/99', /^Cannot resolve models:\/churn\/99: .*churn.*99/],
      [
        'models:/churn/Staging',
        "Cannot resolve models:/churn/Staging: No versions of model with name 'churn' and stage 'Staging' found",
      ],
      ['models:/', /^Cannot resolve models:\/: Not a proper models:\/ URI/],
      [
        'runs:/0123456789abcdef/model',
        /^Cannot list the artifacts of run '0123456789abcdef' under 'model': Run/,
      ],
      [`runs:/${runId}/nothing-here`, `No model at runs:/${runId}/nothing-here: there are no files there.`],
      ['/no/such/model', 'No model directory at /no/such/model.'],
    ];
    for (const [uri, message] of failures) {
      const error = (await serve(uri).then(
        () => undefined,
        (thrown: unknown) => thrown,
      )) as Error;
      expect(error).toBeInstanceOf(Error);
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('\n');
    }
    expect(readdirSync(downloadRoot)).toEqual([]);
  });

  test("credentials (URI userinfo, MLflow's username/password or token) are sent on every call and download, never printed", async () => {
    // In front of the tracking server: 401 as MLflow's basic-auth app answers, unless the header is right.
    const accepted = [`Basic ${Buffer.from('admin:hun@ter2').toString('base64')}`, 'Bearer t0ken'];
    const seen: Array<string | undefined> = [];
    const guard = createServer(async (request, response) => {
      seen.push(request.headers.authorization);
      if (!accepted.includes(request.headers.authorization ?? '')) {
        response.writeHead(401, { 'content-type': 'application/json' });
        response.end('{"error_code": "UNAUTHENTICATED", "message": "You are not authenticated."}');
        return;
      }
      const upstream = await fetch(`${trackingUri}${request.url}`);
      response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? '' });
      response.end(Buffer.from(await upstream.arrayBuffer()));
    });
    await new Promise<void>((resolve) => guard.listen(0, '127.0.0.1', resolve));
    const guarded = `127.0.0.1:${(guard.address() as AddressInfo).port}`;
    const path = `${artifactUri.replace(/^mlflow-artifacts:\//, '')}/model`;
    try {
      const cases: Array<[string, Parameters<typeof fetchModel>[1]]> = [
        // The password's @ percent-encoded, as requests decodes it.
        ['models:/churn@champion', { trackingUri: `http://admin:hun%40ter2@${guarded}/` }],
        [
          `runs:/${runId}/model`,
          { trackingUri: `http://${guarded}`, credentials: { username: 'admin', password: 'hun@ter2' } },
        ],
        [`${artifactUri}/model`, { trackingUri: `http://${guarded}`, credentials: { token: 't0ken' } }],
        // Userinfo wins over the variables (requests sets Basic from the URL last).
        [
          `http://admin:hun%40ter2@${guarded}/api/2.0/mlflow-artifacts/artifacts/${path}`,
          { credentials: { token: 'wrong' } },
        ],
      ];
      for (const [uri, options] of cases) {
        seen.length = 0;
        const fetched = await fetchModel(uri, { ...options, downloadRoot });
        try {
          expect(filesUnder(fetched.dir)).toEqual(expect.arrayContaining(filesUnder(modelDir)));
          expect(fetched.source).not.toContain('hun');
        } finally {
          await fetched.remove();
        }
        expect(seen.length).toBeGreaterThan(filesUnder(modelDir).length);
        expect(seen.every((header) => accepted.includes(header ?? ''))).toBe(true);
      }
      // Wrong or no credentials: the server's message; the password is in no message.
      for (const options of [
        { trackingUri: `http://admin:wrong-pw@${guarded}` },
        { trackingUri: `http://${guarded}`, credentials: { username: 'admin', password: 'wrong-pw' } },
        { trackingUri: `http://${guarded}`, credentials: { username: 'admin' } },
      ]) {
        await expect(fetchModel('models:/churn@champion', { ...options, downloadRoot })).rejects.toThrow(
          'Cannot resolve models:/churn@champion: You are not authenticated.',
        );
      }
      const port = await freePort();
      const unreachable = await fetchModel('models:/churn@champion', {
        trackingUri: `http://admin:wrong-pw@127.0.0.1:${port}`,
      }).catch((error: Error) => error.message);
      expect(unreachable).toBe(
        `Cannot resolve models:/churn@champion: the tracking server at http://127.0.0.1:${port} is unreachable (ECONNREFUSED).`,
      );
      await expect(
        fetchModel('models:/churn@champion', { trackingUri: 'postgresql://admin:wrong-pw@db/mast' }),
      ).rejects.toThrow(/^The tracking URI 'postgresql:\/\/admin:\*\*\*@db\/mast' is not an http\(s\) URL/);
    } finally {
      await new Promise((resolve) => guard.close(resolve));
    }
    expect(readdirSync(downloadRoot)).toEqual([]);
  });

  test('an unreachable tracking server is one line naming it', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await freePort();
    const closed = new HttpClient(`http://127.0.0.1:${port}`);
    await expect(
      serveModel({
        modelUri: 'models:/churn@champion',
        trackingUri: closed.baseUrl,
        host: '127.0.0.1',
        port: 0,
        logger: false,
      }),
    ).rejects.toThrow(
      `Cannot resolve models:/churn@champion: the tracking server at http://127.0.0.1:${port} is unreachable (ECONNREFUSED).`,
    );
  });

  test('transient answers (503 while a service restarts) are asked again; lasting ones fail in one line', async () => {
    let failuresLeft = 2;
    const flaky = createServer(async (request, response) => {
      if (failuresLeft === Number.POSITIVE_INFINITY || failuresLeft-- > 0) {
        response.writeHead(503, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            error_code: 'TEMPORARILY_UNAVAILABLE',
            message: 'The registry service is unavailable; retry later.',
          }),
        );
        return;
      }
      const upstream = await fetch(`${trackingUri}${request.url}`);
      response.writeHead(upstream.status, {
        'content-type': upstream.headers.get('content-type') ?? 'text/plain',
      });
      response.end(Buffer.from(await upstream.arrayBuffer()));
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}`;
    try {
      const fetched = await fetchModel('models:/churn/2', { trackingUri: url, downloadRoot });
      expect(fetched.registeredVersion).toEqual({ name: 'churn', version: '2' });
      await fetched.remove();
      failuresLeft = Number.POSITIVE_INFINITY;
      await expect(fetchModel('models:/churn/2', { trackingUri: url, downloadRoot })).rejects.toThrow(
        'Cannot resolve models:/churn/2: The registry service is unavailable; retry later.',
      );
    } finally {
      await new Promise((resolve) => flaky.close(resolve));
    }
  });

  test('a server without Mast registry (MLflow answers unknown routes 404, empty) is said so', async () => {
    const mlflowLike = createServer((_request, response) => response.writeHead(404).end());
    await new Promise<void>((resolve) => mlflowLike.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(mlflowLike.address() as AddressInfo).port}`;
    try {
      await expect(fetchModel('models:/churn@champion', { trackingUri: url })).rejects.toThrow(
        `Cannot resolve models:/churn@champion: ${url} has no Mast registry (/api/2.0/mast/models/resolve); serve a plain MLflow server's model by its runs:/ or mlflow-artifacts:/ URI.`,
      );
    } finally {
      await new Promise((resolve) => mlflowLike.close(resolve));
    }
  });

  test('--env-manager other than local is refused for a model Mast runs itself', async () => {
    await expect(
      serveModel({ modelUri: modelDir, envManager: 'virtualenv', host: '127.0.0.1', port: 0, logger: false }),
    ).rejects.toThrow(/^--env-manager virtualenv: Mast runs onnx models in its own process/);
    await expect(
      serveModel({ modelUri: modelDir, envManager: 'pip', host: '127.0.0.1', port: 0, logger: false }),
    ).rejects.toThrow("--env-manager: expected one of local, virtualenv, conda, uv, got 'pip'");
  });
});
