import path from 'node:path';
import { defineConfig } from 'vite';

// The console's single-page app. JSX goes through vite's own transform (automatic runtime), so
// no React plugin is needed. One script and stylesheet for the app; uPlot (charts) is a chunk of
// its own, loaded with the first chart, so the fleet page does not wait for it.
export default defineConfig({
  root: __dirname,
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: path.join(__dirname, 'dist'),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
  },
});
