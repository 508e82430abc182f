#!/usr/bin/env node
// Bundles the Lambda handlers into self-contained JavaScript under assets/, at build time, so that
// users of the package never need esbuild (or Docker) when they synthesize.
const path = require('path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const handlers = [
  { name: 'rollout-controller', entry: 'lib/runtime/handler.ts' },
];

for (const h of handlers) {
  esbuild.buildSync({
    entryPoints: [path.join(root, h.entry)],
    outfile: path.join(root, 'assets', h.name, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    // The SDK's ES module builds let esbuild drop every command we do not call (440 KB instead of 1.1 MB).
    mainFields: ['module', 'main'],
    minify: true,
    // The SDK is bundled, not taken from the Lambda runtime, so the versions we test are the ones that run.
    external: [],
    legalComments: 'none',
    logLevel: 'warning',
  });
}
