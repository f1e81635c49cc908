import { MlflowError, readMaxResults, readViewType, rpc, StreamedText } from '@mast/common';
import type { FastifyInstance } from 'fastify';
import { parseExperimentId } from '../domain/ids.js';
import { parseRunOrderBy } from '../domain/order-by.js';
import type { RunCsvColumns } from '../domain/run-csv.js';
import { parseRunFilter } from '../domain/search-filter.js';
import { validateFilterSize, validateOrderByCount } from '../domain/validation.js';
import type { TrackingServices } from '../service/index.js';

/** Runs an export writes unless `max_results` says otherwise, and the most it may ask for. */
const EXPORT_DEFAULT_RUNS = 100_000;
const EXPORT_MAX_RUNS = 1_000_000;

/** The union of the experiments' keys, each list sorted (the columns when the request names none). */
async function allKeys(services: TrackingServices, experimentIds: readonly number[]): Promise<RunCsvColumns> {
  const lists = await Promise.all(experimentIds.map((id) => services.experimentKeys.keys(id)));
  const union = (pick: (keys: RunCsvColumns) => readonly string[]) =>
    [...new Set(lists.flatMap(pick))].sort();
  return { metrics: union((k) => k.metrics), params: union((k) => k.params), tags: union((k) => k.tags) };
}

/**
 * `GET …/mast/runs/export-csv`: every run a search matches as one streamed CSV file (the web UI's
 * "export all runs", ui.md §5.3, goal G12), rather than the pages of `runs/search`. Query parameters as
 * `runs/search`'s (`experiment_ids` repeated, `filter`, `order_by` repeated, `run_view_type`), plus
 * `metrics`, `params`, `tags` (repeated: the columns; when none is given, every key of the experiments)
 * and `max_results` (default 100,000, at most 1,000,000). Bad input is MLflow's JSON error before any
 * CSV is written.
 */
export function runExportRoutes(app: FastifyInstance, services: TrackingServices): void {
  rpc(
    app,
    'GET',
    '/mast/runs/export-csv',
    async (reader, _request, signal) => {
      const experimentIds = reader.stringList('experiment_ids');
      if (experimentIds.length === 0)
        throw MlflowError.invalidParameter("Missing value for required parameter 'experiment_ids'.");
      const filter = parseRunFilter(reader.string('filter'));
      validateFilterSize(filter);
      const orderBy = reader.stringList('order_by');
      validateOrderByCount(orderBy);
      const maxRuns = readMaxResults(reader, 'max_results', EXPORT_DEFAULT_RUNS, EXPORT_MAX_RUNS);
      const named = {
        metrics: reader.stringList('metrics'),
        params: reader.stringList('params'),
        tags: reader.stringList('tags'),
      };
      const columns =
        named.metrics.length + named.params.length + named.tags.length > 0
          ? named
          : await allKeys(
              services,
              experimentIds.map(parseExperimentId).filter((id): id is number => id !== undefined),
            );
      const chunks = services.runs.exportCsv(
        {
          experimentIds,
          filter,
          orderBy: parseRunOrderBy(orderBy),
          viewType: readViewType(reader, 'run_view_type'),
        },
        columns,
        { maxRuns, signal },
      );
      // The header comes after the first page is read: a failing search is still a JSON error here.
      const first = await chunks.next();
      async function* all(): AsyncGenerator<string> {
        if (!first.done) yield first.value;
        yield* chunks;
      }
      return new StreamedText('text/csv; charset=utf-8', all(), {
        'content-disposition': `attachment; filename="runs-${experimentIds.join('-').replace(/[^\w-]/g, '')}.csv"`,
      });
    },
    { expensive: true },
  );
}
