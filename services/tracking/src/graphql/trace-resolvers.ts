import { decodePageToken, encodePageToken } from '@mast/common';
import { truncatedStackTrace } from '../domain/assessments.js';
import { experimentNotFound } from '../domain/errors.js';
import { parseTraceFilter, parseTraceOrderBy } from '../domain/trace-search.js';
import { SOURCE_RUN_METADATA, TRACE_NAME_TAG } from '../domain/traces.js';
import { traceNotFound } from '../service/traces.js';
import type { GraphContext } from './context.js';
import type {
  ExperimentResolvers,
  QueryResolvers,
  QueryTracesArgs,
  Resolvers,
  ResolversTypes,
} from './generated/types.js';
import type { KeyValueModel, RunModel } from './models.js';
import { byKeys, type GraphServices, requireRange } from './resolvers.js';

/** The arguments of a page of traces, with their defaults applied. */
type TracePageArgs = Required<Pick<QueryTracesArgs, 'experimentIds' | 'first'>> &
  Pick<QueryTracesArgs, 'filter' | 'orderBy' | 'after'>;

/** A trace's tags or metadata as a list sorted by key. */
function entries(map: Record<string, string>): KeyValueModel[] {
  return Object.keys(map)
    .sort()
    .map((key) => ({ key, value: map[key]! }));
}

/**
 * MLflow traces in the tracking subgraph: `Query.traces`, `Experiment.traces` and `Query.trace` call the
 * same service as MLflow's REST `traces/search` and `traces/batchGetInfos` routes, with the same filter
 * and order_by parsers; offset cursors, as the REST page tokens. `Trace.assessments` are those the
 * service reads with the traces (one statement per page), the ones REST's trace infos list.
 */
export function traceResolvers(services: GraphServices): Pick<
  Resolvers<GraphContext>,
  'Trace' | 'Assessment' | 'AssessmentError'
> & {
  Query: Pick<QueryResolvers<GraphContext>, 'traces' | 'trace'>;
  Experiment: Pick<ExperimentResolvers<GraphContext>, 'traces'>;
} {
  const { traces, limits } = services;

  async function tracePage(
    context: GraphContext,
    args: TracePageArgs,
  ): Promise<ResolversTypes['TraceConnection']> {
    requireRange('first', args.first, 1, limits.maxPageSize);
    const filter = parseTraceFilter(args.filter ?? undefined);
    const orderBy = parseTraceOrderBy(args.orderBy ?? undefined);
    const offset = decodePageToken(args.after ?? undefined);
    const page = await traces.search({
      experimentIds: args.experimentIds,
      filter,
      orderBy,
      maxResults: args.first,
      offset,
    });
    const loaders = services.loaders(context);
    const nodes = page.traces.map((trace) => loaders.primeTrace(trace));
    const cursors = nodes.map((_, i) => encodePageToken(offset + i + 1));
    return {
      edges: nodes.map((node, i) => ({ node, cursor: cursors[i]! })),
      nodes,
      pageInfo: { hasNextPage: page.hasMore, endCursor: cursors.at(-1) ?? null },
    };
  }

  return {
    Query: {
      traces: (_parent, args, context) => tracePage(context, args),
      async trace(_parent, args, context) {
        const trace = await services.loaders(context).trace.load(args.id);
        if (!trace) throw traceNotFound(args.id);
        return trace;
      },
    },

    Experiment: {
      traces: (experiment, args, context) => tracePage(context, { ...args, experimentIds: [experiment.id] }),
    },

    Trace: {
      __resolveReference: (reference, context) => services.loaders(context).trace.load(reference.id),
      id: (trace) => trace.traceId,
      experimentId: (trace) => String(trace.experimentId),
      async experiment(trace, _args, context) {
        const experiment = await services.loaders(context).experiment.load(String(trace.experimentId));
        if (!experiment) throw experimentNotFound(String(trace.experimentId));
        return experiment;
      },
      name: (trace) => trace.tags[TRACE_NAME_TAG] ?? null,
      executionDurationMs: (trace) => trace.executionDuration,
      tags: (trace, args) => byKeys(entries(trace.tags), args.keys),
      metadata: (trace, args) => byKeys(entries(trace.metadata), args.keys),
      sourceRunId: (trace) => trace.metadata[SOURCE_RUN_METADATA] ?? null,
      async sourceRun(trace, _args, context) {
        const runId = trace.metadata[SOURCE_RUN_METADATA];
        return runId ? await services.loaders(context).run.load(runId) : null;
      },
      linkedRunIds: (trace, _args, context) => services.loaders(context).linkedRunIds.load(trace.traceId),
      async linkedRuns(trace, _args, context) {
        const loaders = services.loaders(context);
        const runs = await loaders.run.loadMany(await loaders.linkedRunIds.load(trace.traceId));
        return runs.filter((run): run is RunModel => {
          if (run instanceof Error) throw run;
          return run !== null;
        });
      },
      // Read with the trace (one statement per page of traces), as REST's trace info lists them.
      assessments: (trace) => trace.assessments,
    },

    // As REST's `toWireAssessment` writes them: empty strings are none, stack traces truncated.
    Assessment: {
      id: (assessment) => assessment.assessmentId,
      kind: (assessment) => (assessment.value.kind === 'feedback' ? 'FEEDBACK' : 'EXPECTATION'),
      value: ({ value }) => (value.value === null ? null : JSON.stringify(value.value)),
      error: ({ value }) => (value.kind === 'feedback' ? value.error : null),
      overrides: (assessment) => assessment.overrides || null,
      metadata: (assessment, args) => byKeys(entries(assessment.metadata ?? {}), args.keys),
    },

    AssessmentError: {
      errorMessage: (error) => error.errorMessage || null,
      stackTrace: (error) => (error.stackTrace ? truncatedStackTrace(error.stackTrace) : null),
    },
  };
}
