import type { ServiceMigrations } from '@mast/common';
import * as initial from './0001-initial.js';
import * as metricChunks from './0002-metric-chunks.js';
import * as searchAndWritePaths from './0003-search-and-write-paths.js';
import * as paramRaces from './0004-param-races.js';
import * as latestMetricsFromChunks from './0005-latest-metrics-from-chunks.js';
import * as savedViews from './0006-saved-views.js';
import * as metricChunkSums from './0007-metric-chunk-sums.js';
import * as traces from './0008-traces.js';
import * as assessments from './0009-assessments.js';
import * as scorers from './0010-scorers.js';

export const trackingMigrations: ServiceMigrations = {
  schema: 'tracking',
  migrations: {
    '0001-initial': initial,
    '0002-metric-chunks': metricChunks,
    '0003-search-and-write-paths': searchAndWritePaths,
    '0004-param-races': paramRaces,
    '0005-latest-metrics-from-chunks': latestMetricsFromChunks,
    '0006-saved-views': savedViews,
    '0007-metric-chunk-sums': metricChunkSums,
    '0008-traces': traces,
    '0009-assessments': assessments,
    '0010-scorers': scorers,
  },
};
