#!/usr/bin/env node
// Compares the two benchmark stacks: the same resource types in the same numbers, and templates
// of about the same size (names and logical IDs differ). Run: node bench/check-equivalence.js [N]
const { App } = require('aws-cdk-lib');

const n = Number(process.argv[2] ?? 3);
const describe = (impl) => {
  const app = new App({ context: { '@aws-cdk/core:stackResourceLimit': 0 } });
  const stack = require(`./${impl}`).buildStack(app, n);
  const template = app.synth().getStackByName(stack.stackName).template;
  // Logical IDs are CDK's choice (long for L2 paths, short here): count each as one character.
  const ids = new Set(Object.keys(template.Resources));
  const normalize = (v) => (typeof v === 'string' ? (ids.has(v) ? 'R' : v)
    : Array.isArray(v) ? v.map(normalize)
      : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)])) : v);
  const types = {};
  const bytes = {};
  for (const r of Object.values(template.Resources)) {
    types[r.Type] = (types[r.Type] ?? 0) + 1;
    const { Metadata, ...rest } = r;
    bytes[r.Type] = (bytes[r.Type] ?? 0) + JSON.stringify(normalize(rest)).length;
  }
  return { types, bytes };
};
const ours = describe('ours');
const hand = describe('handwritten');
let same = true;
for (const type of new Set([...Object.keys(ours.types), ...Object.keys(hand.types)])) {
  const diff = Math.abs((ours.bytes[type] ?? 0) - (hand.bytes[type] ?? 0)) / Math.max(ours.bytes[type] ?? 1, 1);
  const ok = ours.types[type] === hand.types[type] && diff < 0.1;
  same &&= ok;
  console.log(`${ok ? 'same ' : 'DIFF '} ${type.padEnd(36)} ours ${String(ours.types[type] ?? 0).padStart(3)} x ${String(ours.bytes[type] ?? 0).padStart(7)} B   hand-written ${String(hand.types[type] ?? 0).padStart(3)} x ${String(hand.bytes[type] ?? 0).padStart(7)} B`);
}
process.exitCode = same ? 0 : 1;
