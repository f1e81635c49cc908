import {
  decodePageToken,
  encodePageToken,
  MlflowError,
  nonEmpty,
  type RequestReader,
  readMaxResults,
  rpc,
} from '@mast/common';
import type {
  CreateModelVersion_Response,
  CreateRegisteredModel_Response,
  GetLatestVersions_Response,
  GetModelVersion_Response,
  GetModelVersionByAlias_Response,
  GetModelVersionDownloadUri_Response,
  GetRegisteredModel_Response,
  GetRegistryHistory_Response,
  RenameRegisteredModel_Response,
  ResolveModelUri_Response,
  SearchModelVersions_Response,
  SearchRegisteredModels_Response,
  TransitionModelVersionStage_Response,
  UpdateModelVersion_Response,
  UpdateRegisteredModel_Response,
} from '@mast/proto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { KeyValue } from '../domain/records.js';
import {
  parseModelFilter,
  parseModelOrderBy,
  parseVersionFilter,
  parseVersionOrderBy,
} from '../domain/search.js';
import {
  SEARCH_MODELS_DEFAULT,
  SEARCH_MODELS_MAX,
  SEARCH_VERSIONS_DEFAULT,
  SEARCH_VERSIONS_MAX,
} from '../domain/validation.js';
import type { Actor, RegistryService } from '../service/registry.js';
import { toWireHistory, toWireModel, toWireVersion } from './wire.js';

const RM = '/mlflow/registered-models';
const MV = '/mlflow/model-versions';

function readTags(reader: RequestReader): KeyValue[] {
  return reader.messageList('tags').map((tag) => ({
    key: tag.string('key', { required: true }),
    value: tag.stringOrEmpty('value') ?? '',
  }));
}

/** The caller, from HTTP basic auth (MLflow's `user_id` source) when present. */
export function actorOf(request: FastifyRequest): Actor {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header.toLowerCase().startsWith('basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const user = decoded.split(':', 1)[0];
    if (user) return { actor: user };
  }
  return {};
}

/** `max_results` of a registry search: MLflow's store message above the limit. */
function readRegistryMaxResults(reader: RequestReader, fallback: number, max: number): number {
  const value = reader.integer('max_results') ?? fallback;
  if (value > max) {
    throw MlflowError.invalidParameter(
      `Invalid value for request parameter max_results. It must be at most ${max}, but got value ${value}`,
    );
  }
  return readMaxResults(reader, 'max_results', fallback, max);
}

/** MLflow's model-registry REST API (spec §1.2) plus Mast's history and `models:/` resolution. */
export function registryRoutes(app: FastifyInstance, registry: RegistryService): void {
  // ---------------------------------------------------------------- registered models
  rpc(app, 'POST', `${RM}/create`, async (reader, request): Promise<CreateRegisteredModel_Response> => {
    const model = await registry.createModel(
      {
        name: reader.string('name', { required: true }),
        tags: readTags(reader),
        description: reader.stringOrEmpty('description'),
      },
      actorOf(request),
    );
    return { registered_model: toWireModel(model) };
  });

  rpc(app, 'GET', `${RM}/get`, async (reader): Promise<GetRegisteredModel_Response> => {
    return {
      registered_model: toWireModel(await registry.getModel(reader.string('name', { required: true }))),
    };
  });

  rpc(app, 'POST', `${RM}/rename`, async (reader, request): Promise<RenameRegisteredModel_Response> => {
    const model = await registry.renameModel(
      reader.string('name', { required: true }),
      reader.string('new_name', { required: true }),
      actorOf(request),
    );
    return { registered_model: toWireModel(model) };
  });

  rpc(app, 'PATCH', `${RM}/update`, async (reader): Promise<UpdateRegisteredModel_Response> => {
    const model = await registry.updateModel(
      reader.string('name', { required: true }),
      reader.stringOrEmpty('description'),
    );
    return { registered_model: toWireModel(model) };
  });

  rpc(app, 'DELETE', `${RM}/delete`, async (reader, request) => {
    await registry.deleteModel(reader.string('name', { required: true }), actorOf(request));
    return {};
  });

  const searchModels = async (reader: RequestReader): Promise<SearchRegisteredModels_Response> => {
    const maxResults = readRegistryMaxResults(reader, SEARCH_MODELS_DEFAULT, SEARCH_MODELS_MAX);
    const offset = decodePageToken(reader.string('page_token'));
    const { models, hasMore } = await registry.searchModels({
      filter: parseModelFilter(reader.string('filter')),
      orderBy: parseModelOrderBy(reader.stringList('order_by')),
      maxResults,
      offset,
    });
    return {
      registered_models: nonEmpty(models.map(toWireModel)),
      next_page_token: hasMore ? encodePageToken(offset + maxResults) : undefined,
    };
  };
  rpc(app, 'GET', `${RM}/search`, searchModels, { expensive: true });
  rpc(app, 'POST', `${RM}/search`, searchModels, { expensive: true });

  const latestVersions = async (reader: RequestReader): Promise<GetLatestVersions_Response> => {
    const versions = await registry.getLatestVersions(
      reader.string('name', { required: true }),
      reader.stringList('stages'),
    );
    return { model_versions: nonEmpty(versions.map(toWireVersion)) };
  };
  rpc(app, 'POST', `${RM}/get-latest-versions`, latestVersions);
  rpc(app, 'GET', `${RM}/get-latest-versions`, latestVersions);

  rpc(app, 'POST', `${RM}/set-tag`, async (reader, request) => {
    await registry.setModelTag(
      reader.string('name', { required: true }),
      reader.string('key', { required: true }),
      reader.stringOrEmpty('value') ?? '',
      actorOf(request),
    );
    return {};
  });

  rpc(app, 'DELETE', `${RM}/delete-tag`, async (reader, request) => {
    await registry.deleteModelTag(
      reader.string('name', { required: true }),
      reader.string('key', { required: true }),
      actorOf(request),
    );
    return {};
  });

  rpc(app, 'POST', `${RM}/alias`, async (reader, request) => {
    await registry.setAlias(
      reader.string('name', { required: true }),
      reader.string('alias', { required: true }),
      reader.id('version', { required: true }),
      actorOf(request),
    );
    return {};
  });

  rpc(app, 'DELETE', `${RM}/alias`, async (reader, request) => {
    await registry.deleteAlias(
      reader.string('name', { required: true }),
      reader.string('alias', { required: true }),
      actorOf(request),
    );
    return {};
  });

  rpc(app, 'GET', `${RM}/alias`, async (reader): Promise<GetModelVersionByAlias_Response> => {
    const version = await registry.getVersionByAlias(
      reader.string('name', { required: true }),
      reader.string('alias', { required: true }),
    );
    return { model_version: toWireVersion(version) };
  });

  // ---------------------------------------------------------------- model versions
  rpc(app, 'POST', `${MV}/create`, async (reader, request): Promise<CreateModelVersion_Response> => {
    const version = await registry.createVersion(
      {
        name: reader.string('name', { required: true }),
        source: reader.string('source', { required: true }),
        runId: reader.string('run_id'),
        tags: readTags(reader),
        runLink: reader.string('run_link'),
        description: reader.stringOrEmpty('description'),
        modelId: reader.string('model_id'),
      },
      actorOf(request),
    );
    return { model_version: toWireVersion(version) };
  });

  rpc(app, 'GET', `${MV}/get`, async (reader): Promise<GetModelVersion_Response> => {
    const version = await registry.getVersion(
      reader.string('name', { required: true }),
      reader.id('version', { required: true }),
    );
    return { model_version: toWireVersion(version) };
  });

  rpc(app, 'PATCH', `${MV}/update`, async (reader): Promise<UpdateModelVersion_Response> => {
    const version = await registry.updateVersion(
      reader.string('name', { required: true }),
      reader.id('version', { required: true }),
      reader.stringOrEmpty('description'),
    );
    return { model_version: toWireVersion(version) };
  });

  rpc(app, 'DELETE', `${MV}/delete`, async (reader, request) => {
    await registry.deleteVersion(
      reader.string('name', { required: true }),
      reader.id('version', { required: true }),
      actorOf(request),
    );
    return {};
  });

  const searchVersions = async (reader: RequestReader): Promise<SearchModelVersions_Response> => {
    const maxResults = readRegistryMaxResults(reader, SEARCH_VERSIONS_DEFAULT, SEARCH_VERSIONS_MAX);
    const offset = decodePageToken(reader.string('page_token'));
    const { versions, hasMore } = await registry.searchVersions({
      filter: parseVersionFilter(reader.string('filter')),
      orderBy: parseVersionOrderBy(reader.stringList('order_by')),
      maxResults,
      offset,
    });
    return {
      model_versions: nonEmpty(versions.map(toWireVersion)),
      next_page_token: hasMore ? encodePageToken(offset + maxResults) : undefined,
    };
  };
  rpc(app, 'GET', `${MV}/search`, searchVersions, { expensive: true });
  rpc(app, 'POST', `${MV}/search`, searchVersions, { expensive: true });

  rpc(
    app,
    'POST',
    `${MV}/transition-stage`,
    async (reader, request): Promise<TransitionModelVersionStage_Response> => {
      const version = await registry.transitionStage(
        reader.string('name', { required: true }),
        reader.id('version', { required: true }),
        reader.string('stage', { required: true }),
        reader.boolean('archive_existing_versions') ?? false,
        { ...actorOf(request), reason: reader.string('comment') },
      );
      return { model_version: toWireVersion(version) };
    },
  );

  rpc(app, 'GET', `${MV}/get-download-uri`, async (reader): Promise<GetModelVersionDownloadUri_Response> => {
    const uri = await registry.getDownloadUri(
      reader.string('name', { required: true }),
      reader.id('version', { required: true }),
    );
    return { artifact_uri: uri };
  });

  rpc(app, 'POST', `${MV}/set-tag`, async (reader, request) => {
    await registry.setVersionTag(
      reader.string('name', { required: true }),
      reader.id('version', { required: true }),
      reader.string('key', { required: true }),
      reader.stringOrEmpty('value') ?? '',
      actorOf(request),
    );
    return {};
  });

  rpc(app, 'DELETE', `${MV}/delete-tag`, async (reader, request) => {
    await registry.deleteVersionTag(
      reader.string('name', { required: true }),
      reader.id('version', { required: true }),
      reader.string('key', { required: true }),
      actorOf(request),
    );
    return {};
  });

  // ---------------------------------------------------------------- Mast additions
  rpc(app, 'GET', '/mast/registered-models/history', async (reader): Promise<GetRegistryHistory_Response> => {
    const maxResults = readMaxResults(reader, 'max_results', 1000, 10_000);
    const offset = decodePageToken(reader.string('page_token'));
    const { entries, hasMore } = await registry.history(reader.string('name', { required: true }), {
      version: reader.id('version'),
      maxResults,
      offset,
    });
    return {
      entries: nonEmpty(entries.map(toWireHistory)),
      next_page_token: hasMore ? encodePageToken(offset + maxResults) : undefined,
    };
  });

  rpc(app, 'GET', '/mast/models/resolve', async (reader): Promise<ResolveModelUri_Response> => {
    const resolved = await registry.resolveUri(reader.string('uri', { required: true }));
    return {
      model_version: resolved.version ? toWireVersion(resolved.version) : undefined,
      artifact_uri: resolved.artifactUri,
      model_id: resolved.modelId,
    };
  });
}
