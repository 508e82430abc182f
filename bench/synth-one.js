#!/usr/bin/env node
// One synthesis, in its own process, for the benchmark: `node bench/synth-one.js <ours|handwritten> <N>`.
// Prints one JSON line: wall time of the synthesis, peak memory, resource counts and template size.
const fs = require('fs');
const os = require('os');
const path = require('path');

const [impl, nText] = process.argv.slice(2);
const n = Number(nText);
const started = process.hrtime.bigint();
const { App } = require('aws-cdk-lib');
const build = impl === 'ours' ? require('./ours') : require('./handwritten');
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${impl}-`));
const app = new App({ outdir });
const stack = build.buildStack(app, n);
const assembly = app.synth();
const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;

const template = assembly.getStackByName(stack.stackName).template;
const types = {};
for (const r of Object.values(template.Resources)) types[r.Type] = (types[r.Type] ?? 0) + 1;
const bytes = fs.statSync(path.join(outdir, `${stack.stackName}.template.json`)).size;
fs.rmSync(outdir, { recursive: true, force: true });
process.stdout.write(JSON.stringify({
  impl, n, elapsedMs,
  // ru_maxrss is in kilobytes on Linux.
  peakRssMb: process.resourceUsage().maxRSS / 1024,
  resources: Object.values(types).reduce((a, b) => a + b, 0),
  types,
  templateBytes: bytes,
}) + '\n');
