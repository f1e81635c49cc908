import { runService } from '@mast/common';
import { registryService } from './descriptor.js';

/** The registry service as its own process (cluster mode). */
await runService(registryService);
