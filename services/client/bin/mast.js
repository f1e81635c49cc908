#!/usr/bin/env node
// The installed entry point; the CLI itself is compiled from src/cli.ts by `npm run build`.
await import('../dist/cli.js');
