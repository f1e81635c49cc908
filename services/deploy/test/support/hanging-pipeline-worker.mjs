// A deploy pipeline worker as its own process, for the test that kills it mid-rollout: its steps build
// at once and then hang in the rollout. Runs the built packages (`npm run build` first).
// Arguments: PostgreSQL URL, Redis URL, Redis key prefix.
import { createQueueConnection, openDatabase } from '@mast/common';
import { DeployService, startDeployWorkers } from '@mast/deploy';

const [databaseUrl, redisUrl, prefix] = process.argv.slice(2);
const database = await openDatabase({ uri: databaseUrl, poolSize: 2 });
const queues = createQueueConnection({ redisUrl, prefix });
const service = new DeployService({
  db: database.db,
  queues,
  registry: { exists: async () => true, modelExists: async () => true },
});
await startDeployWorkers({
  service,
  queues,
  lockDurationMs: 1000,
  steps: {
    build: async () => ({ image: `registry.test/models/churn@sha256:${'a'.repeat(64)}`, reason: 'built' }),
    rollout: () => new Promise(() => {}),
  },
});
process.stdout.write('ready\n');
