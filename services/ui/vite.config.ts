import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Relative asset URLs: the gateway serves the app under any `--static-prefix` and sets `<base href>`.
// The size budget is gzip (goal G14: initial JS <= 300 KB gzip); the warning is on minified size.
export default defineConfig({
  base: './',
  plugins: [react()],
  // React 19 lives in services/ui/node_modules; the repo root has React 18 (the GraphQL explorer's).
  // Libraries hoisted to the root (react-router) must use this app's copy.
  resolve: { dedupe: ['react', 'react-dom'] },
  build: { outDir: 'dist', emptyOutDir: true, reportCompressedSize: true, chunkSizeWarningLimit: 600 },
});
