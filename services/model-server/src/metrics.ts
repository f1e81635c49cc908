import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** The model server's Prometheus metrics, in its own registry (served at `/metrics`). */
export interface ModelServerMetrics {
  registry: Registry;
  /** Request latency by route and status, in seconds (the same name every Mast process uses). */
  requestDuration: Histogram<'method' | 'route' | 'status_code'>;
  /** Rows per inference call: 1 without batching, up to `maxBatchSize` with it. */
  batchRows: Histogram<never>;
  /** Time of one inference call (`session.run`), in seconds. */
  inferenceDuration: Histogram<never>;
  /** Requests answered with an error, by route and error code. */
  errors: Counter<'route' | 'error_code'>;
}

/** A fresh registry with the default process metrics and the model server's own. */
export function createMetrics(): ModelServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requestDuration: new Histogram({
      name: 'mast_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    batchRows: new Histogram({
      name: 'mast_model_batch_rows',
      help: 'Rows per inference call',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers: [registry],
    }),
    inferenceDuration: new Histogram({
      name: 'mast_model_inference_duration_seconds',
      help: 'Duration of one inference call',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'mast_model_request_errors_total',
      help: 'Requests answered with an error, by route and error code',
      labelNames: ['route', 'error_code'] as const,
      registers: [registry],
    }),
  };
}
