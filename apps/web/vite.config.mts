import * as path from 'node:path';
import { defineConfig } from 'vite';

/** The web UI: static files in dist/apps/web that the API serves at / (apps/api/src/web/web-ui.ts). */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  resolve: { alias: { '@app/client': path.resolve(import.meta.dirname, '../../libs/client/src') } },
  // Preact's automatic JSX runtime, through Vite's own transform (no plugin).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: path.resolve(import.meta.dirname, '../../dist/apps/web'),
    emptyOutDir: true,
    // The CSP forbids inline script and style, and no data: fonts or scripts: every asset is a file.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    target: 'es2022',
  },
});
