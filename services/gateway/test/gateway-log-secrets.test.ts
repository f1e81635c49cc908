import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@jest/globals';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

// The gateway process logs the services it routes to: a password in MAST_SERVICE_URLS must be masked.
test('the gateway start-up line masks passwords in MAST_SERVICE_URLS', async () => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      MAST_PORT: String(port),
      MAST_SERVICE_URLS: 'tracking=http://user:gwSECRET@127.0.0.1:1',
    },
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line: ${output}`)), 20_000);
    child.once('exit', () => reject(new Error(`exited: ${output}`)));
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('gateway listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
  });
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  expect(output).toContain('user:***@127.0.0.1:1');
  expect(output).not.toContain('gwSECRET');
}, 30_000);
