import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { Counter, Histogram, type Registry } from 'prom-client';

/** Distinct operation names kept as label values; later ones are counted as `__other`. */
const MAX_OPERATION_NAMES = 200;
const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;

/**
 * Prometheus metrics of the GraphQL endpoint, on the process's registry:
 * `mast_graphql_operation_duration_seconds{operation_name, operation_type}` (a histogram) and
 * `mast_graphql_errors_total{code}`. Operation names come from clients, so the label is bounded.
 */
export function graphqlMetricsPlugin(registry: Registry): ApolloServerPlugin<BaseContext> {
  const duration = new Histogram({
    name: 'mast_graphql_operation_duration_seconds',
    help: 'GraphQL operation duration by operation name and type',
    labelNames: ['operation_name', 'operation_type'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'mast_graphql_errors_total',
    help: 'GraphQL errors by extensions.code',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const names = new Set<string>();
  const codes = new Set<string>();

  function operationLabel(name: string | undefined): string {
    if (!name) return 'anonymous';
    if (!NAME.test(name)) return '__invalid';
    if (names.has(name)) return name;
    if (names.size >= MAX_OPERATION_NAMES) return '__other';
    names.add(name);
    return name;
  }

  function codeLabel(code: unknown): string {
    const text = typeof code === 'string' && NAME.test(code) ? code : 'INTERNAL_SERVER_ERROR';
    if (codes.has(text) || codes.size < MAX_OPERATION_NAMES) {
      codes.add(text);
      return text;
    }
    return '__other';
  }

  return {
    async requestDidStart() {
      const start = process.hrtime.bigint();
      return {
        async didEncounterErrors({ errors: list }) {
          for (const error of list) errors.inc({ code: codeLabel(error.extensions?.code) });
        },
        async willSendResponse({ operationName, operation }) {
          duration.observe(
            {
              operation_name: operationLabel(operationName ?? undefined),
              operation_type: operation?.operation ?? 'unknown',
            },
            Number(process.hrtime.bigint() - start) / 1e9,
          );
        },
      };
    },
  };
}
