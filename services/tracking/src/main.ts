import { runService } from '@mast/common';
import { trackingService } from './descriptor.js';

/** The tracking service as its own process (cluster mode). */
await runService(trackingService);
