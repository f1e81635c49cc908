import { runService } from '@mast/common';
import { deployService } from './descriptor.js';

/** The deploy service as its own process (cluster mode): its API, subgraph and workers. */
await runService(deployService);
