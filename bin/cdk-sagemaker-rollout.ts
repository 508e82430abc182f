#!/usr/bin/env node
import { main } from '../lib/cli/main';

// The AWS SDK v3 warns on Node 20 that SDK releases after January 2027 will need Node 22. The CLI
// carries its own SDK, bundled and pinned when the package is built, so that notice says nothing
// about this program; which Node versions it supports is package.json's `engines`. The SDK reads
// the variable when a client is made, which happens inside `main`.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

main(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  env: process.env,
}).then((code) => {
  process.exitCode = code;
});
