/**
 * Vite config of the admin web UI: `npm run build:www` (www/build.ts) → `www/dist/`,
 * served by the hub at `/` (hub/http/web-ui.ts). Hashed files land in `dist/assets/`
 * (cached for a year by the hub); `index.html` is served with `no-cache`.
 * `npx vite www` serves the sources with a proxy to a hub on :8080 for development.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  // No public/ folder: everything the page needs is imported by src/.
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsDir: 'assets',
    // One chunk per page keeps the first paint small; mqtt's browser build is ~ 350 KB alone.
    chunkSizeWarningLimit: 600,
    sourcemap: false,
  },
  server: {
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080', changeOrigin: false },
      '/mqtt': { target: 'ws://127.0.0.1:8080', ws: true },
    },
  },
});
