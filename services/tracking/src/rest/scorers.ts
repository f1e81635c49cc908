import { API_V3_PREFIXES, nonEmpty, rpc } from '@mast/common';
import type {
  GetScorer_Response,
  ListScorers_Response,
  ListScorerVersions_Response,
  RegisterScorer_Response,
  Scorer,
} from '@mast/proto';
import type { FastifyInstance } from 'fastify';
import type { ScorerVersionRecord } from '../domain/scorers.js';
import type { TrackingServices } from '../service/index.js';

const SCORERS = '/mlflow/scorers';
const V3 = { prefixes: API_V3_PREFIXES };

/**
 * `ScorerVersion.to_proto` (mlflow/entities/scorer.py): `experiment_id` and `scorer_version` are int32
 * in MLflow's `Scorer`, so JSON numbers; `creation_time` an int64, which `message_to_json` writes as a
 * number too.
 */
function toWireScorer(record: ScorerVersionRecord): Scorer {
  return {
    experiment_id: record.experimentId,
    scorer_name: record.scorerName,
    scorer_version: record.scorerVersion,
    serialized_scorer: record.serializedScorer,
    creation_time: record.creationTime,
    scorer_id: record.scorerId,
  };
}

/**
 * MLflow 3's scorer registry over REST, under /api/3.0 and /ajax-api/3.0 only (service.proto's
 * `since: 3.0` endpoints): register (POST), list and list versions, get (GET, query string), and
 * delete (DELETE, JSON body; all versions when `version` is absent). `experiment_id` and `name` are
 * required everywhere, `serialized_scorer` to register: MLflow's `_assert_required` 400s.
 */
export function scorerRoutes(app: FastifyInstance, { scorers }: TrackingServices): void {
  rpc(
    app,
    'POST',
    `${SCORERS}/register`,
    async (reader): Promise<RegisterScorer_Response> => {
      const experimentId = reader.id('experiment_id', { required: true });
      const name = reader.string('name', { required: true });
      const serialized = reader.string('serialized_scorer', { required: true });
      const registered = await scorers.register(experimentId, name, serialized);
      // RegisterScorer.Response's experiment_id is a string, as the request's is.
      return {
        version: registered.scorerVersion,
        scorer_id: registered.scorerId,
        experiment_id: String(registered.experimentId),
        name: registered.scorerName,
        serialized_scorer: registered.serializedScorer,
        creation_time: registered.creationTime,
      };
    },
    V3,
  );

  rpc(
    app,
    'GET',
    `${SCORERS}/list`,
    async (reader): Promise<ListScorers_Response> => {
      const found = await scorers.list(reader.id('experiment_id', { required: true }));
      return { scorers: nonEmpty(found.map(toWireScorer)) };
    },
    V3,
  );

  rpc(
    app,
    'GET',
    `${SCORERS}/versions`,
    async (reader): Promise<ListScorerVersions_Response> => {
      const experimentId = reader.id('experiment_id', { required: true });
      const found = await scorers.versions(experimentId, reader.string('name', { required: true }));
      return { scorers: nonEmpty(found.map(toWireScorer)) };
    },
    V3,
  );

  rpc(
    app,
    'GET',
    `${SCORERS}/get`,
    async (reader): Promise<GetScorer_Response> => {
      const experimentId = reader.id('experiment_id', { required: true });
      const name = reader.string('name', { required: true });
      return { scorer: toWireScorer(await scorers.get(experimentId, name, reader.int32('version'))) };
    },
    V3,
  );

  rpc(
    app,
    'DELETE',
    `${SCORERS}/delete`,
    async (reader) => {
      const experimentId = reader.id('experiment_id', { required: true });
      const name = reader.string('name', { required: true });
      await scorers.delete(experimentId, name, reader.int32('version'));
      return {};
    },
    V3,
  );
}
