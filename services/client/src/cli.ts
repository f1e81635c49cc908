import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type MastConfig, migrateToLatest, openDatabase, serve } from '@mast/common';
import { buildAllInOne } from '@mast/gateway';
import { trackingMigrations } from '@mast/tracking';

const USAGE = `Usage:
  mast server [--host HOST] [--port PORT] [--backend-store-uri URI] [--default-artifact-root URI]
              [--artifacts-destination DIR|s3://BUCKET/PREFIX] [--serve-artifacts | --no-serve-artifacts]
  mast db upgrade [URI]

Flags override the MAST_* environment variables (see the README).`;

/** Flags named as `mlflow server`'s, layered over the environment. */
function configFromFlags(argv: string[]): MastConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', short: 'h' },
      port: { type: 'string', short: 'p' },
      'backend-store-uri': { type: 'string' },
      'default-artifact-root': { type: 'string' },
      'artifacts-destination': { type: 'string' },
      // parseArgs has no negation: both spellings of mlflow's flag are declared.
      'serve-artifacts': { type: 'boolean' },
      'no-serve-artifacts': { type: 'boolean' },
    },
    strict: true,
  });
  return loadConfig({
    ...process.env,
    MAST_HOST: values.host ?? process.env.MAST_HOST,
    MAST_PORT: values.port ?? process.env.MAST_PORT,
    MAST_BACKEND_STORE_URI: values['backend-store-uri'] ?? process.env.MAST_BACKEND_STORE_URI,
    MAST_DEFAULT_ARTIFACT_ROOT: values['default-artifact-root'] ?? process.env.MAST_DEFAULT_ARTIFACT_ROOT,
    MAST_ARTIFACTS_DESTINATION: values['artifacts-destination'] ?? process.env.MAST_ARTIFACTS_DESTINATION,
    MAST_SERVE_ARTIFACTS: values['no-serve-artifacts']
      ? 'false'
      : values['serve-artifacts']
        ? 'true'
        : process.env.MAST_SERVE_ARTIFACTS,
  });
}

async function runServer(argv: string[]): Promise<void> {
  const config = configFromFlags(argv);
  const server = await buildAllInOne(config);
  const address = await serve(server.app, {
    host: config.host,
    port: config.port,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    onShutdown: server.close,
  });
  server.app.log.info(`Mast listening on ${address} (backend store: ${config.backendStoreUri})`);
}

async function upgradeDatabase(argv: string[]): Promise<void> {
  const config = loadConfig(process.env);
  const uri = argv[0] ?? config.backendStoreUri;
  const database = await openDatabase({ uri, poolSize: 1 });
  try {
    const applied = await migrateToLatest(database.db, trackingMigrations);
    console.log(applied.length > 0 ? `Applied: ${applied.join(', ')}` : 'Database is up to date.');
  } finally {
    await database.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'server') return runServer(rest);
  if (command === 'db' && rest[0] === 'upgrade') return upgradeDatabase(rest.slice(1));
  console.error(USAGE);
  process.exit(command === undefined || command === '--help' ? 0 : 2);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
