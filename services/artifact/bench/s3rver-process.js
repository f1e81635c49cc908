// s3rver in its own process for the benchmark, so the backend does not share a core with the client.
// Usage: node s3rver-process.js DIRECTORY BUCKET; prints "ready PORT" once listening.
import S3rver from 's3rver';

const [directory, bucket] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: [{ name: bucket, configs: [] }],
});
const address = await server.run();
process.stdout.write(`ready ${address.port}\n`);
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
