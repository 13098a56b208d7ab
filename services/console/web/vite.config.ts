import path from 'node:path';
import { defineConfig } from 'vite';

// The console's single-page app. JSX goes through vite's own transform (automatic runtime), so
// no React plugin is needed; everything is bundled into one script and one stylesheet.
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
    rolldownOptions: { output: { codeSplitting: false } },
  },
});
