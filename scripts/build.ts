/**
 * `npm run build`: bundles the entry points into plain JavaScript in dist/ (web.mjs, worker.mjs, start.mjs,
 * cli.mjs, read-thread.mjs, each with a source map), so that the processes run without the tsx loader: less memory, faster start.
 * Packages stay in node_modules (--packages=external). `npm start`, `npm run web|worker|cli` build first.
 * Each file is written beside its target and renamed over it, so a process starting while another build runs
 * (`npm run web & npm run worker`) never reads a half-written bundle.
 */
import { build } from 'esbuild';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const result = await build({
  absWorkingDir: root,
  entryPoints: {
    web: 'web/main.ts',
    worker: 'worker/main.ts',
    start: 'scripts/start.ts',
    cli: 'src/cli/main.ts',
    // The reading threads' script, loaded by worker.mjs and cli.mjs from beside them (src/batches/parallel-read.ts).
    'read-thread': 'src/batches/read-thread.ts',
  },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  jsx: 'automatic',
  jsxImportSource: 'hono/jsx',
  sourcemap: true,
  write: false,
  logLevel: 'warning',
});

mkdirSync(`${root}dist`, { recursive: true });
for (const file of result.outputFiles) {
  const tmp = `${file.path}.${process.pid}.tmp`;
  writeFileSync(tmp, file.contents);
  renameSync(tmp, file.path);
}
