import { API_PREFIXES, MlflowError, RequestReader, requestBasePath } from '@mast/common';
import type { FastifyInstance } from 'fastify';
import { safeRelativePath } from '../domain/artifact-location.js';
import type { RegistryService } from '../service/registry.js';

/** The UI's download route for a version's files (MLflow: `GET /model-versions/get-artifact`). */
export const GET_ARTIFACT_PATH = '/model-versions/get-artifact';

/**
 * `GET /model-versions/get-artifact?name=&version=&path=`: resolves the version's download URI and
 * redirects (302) to where the artifact service serves that file — the artifact proxy for
 * `mlflow-artifacts:` locations and `http(s)` URLs of the proxy's route, `/get-artifact` for `runs:/`
 * sources and for local paths inside their run's local artifact root — so the bytes stream from the
 * service that owns them in both wirings; under `--static-prefix` the target is under it too. Other
 * storage (s3://, ...) is answered NOT_IMPLEMENTED.
 */
export function artifactRoutes(app: FastifyInstance, registry: RegistryService): void {
  const urls = [GET_ARTIFACT_PATH, ...API_PREFIXES.map((prefix) => `${prefix}/mlflow${GET_ARTIFACT_PATH}`)];
  for (const url of urls) {
    app.get(url, async (request, reply) => {
      const reader = RequestReader.of(request.query);
      const name = reader.string('name', { required: true });
      const version = reader.id('version', { required: true });
      const path = safeRelativePath(reader.string('path', { required: true }));
      const { uri, target } = await registry.versionFileDownloadPath(name, version, path);
      if (target === undefined) {
        throw new MlflowError(
          'NOT_IMPLEMENTED',
          `The artifacts of model version ${name}/${version} are at '${uri}', which this server does not proxy; read them from there.`,
        );
      }
      return reply.redirect(`${requestBasePath(request)}${target}`, 302);
    });
  }
}
