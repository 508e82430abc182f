#!/usr/bin/env node
// Bundles the Lambda handlers (into assets/) and the operator CLI (into dist/bin/) into
// self-contained JavaScript at build time. Users of the package never need esbuild (or Docker) when
// they synthesize, and the package has no runtime dependency on the AWS SDK: jsii allows only jsii
// modules as dependencies, and the SDK versions we test are the ones that run.
const path = require('path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const handlers = [
  { name: 'rollout-controller', entry: 'lib/runtime/handler.ts' },
];

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  // The SDK's ES module builds let esbuild drop every command we do not call (440 KB instead of 1.1 MB).
  mainFields: ['module', 'main'],
  minify: true,
  // The SDK is bundled, not taken from the Lambda runtime or the user's node_modules.
  external: [],
  legalComments: 'none',
  logLevel: 'warning',
};

for (const h of handlers) {
  esbuild.buildSync({
    ...common,
    entryPoints: [path.join(root, h.entry)],
    outfile: path.join(root, 'assets', h.name, 'index.js'),
    target: 'node22',
  });
}

// The CLI runs on the user's machine: the oldest Node the package supports (package.json engines).
esbuild.buildSync({
  ...common,
  entryPoints: [path.join(root, 'bin', 'cdk-sagemaker-rollout.ts')],
  outfile: path.join(root, 'dist', 'bin', 'cdk-sagemaker-rollout.js'),
  target: 'node20',
});
