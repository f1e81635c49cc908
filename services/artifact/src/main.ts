import { runService } from '@mast/common';
import { artifactService } from './descriptor.js';

/** The artifact service as its own process (cluster mode); `MAST_TRACKING_URL` says where tracking is. */
await runService(artifactService);
