#!/usr/bin/env node
import { main } from '../lib/cli/main';

// Under Node.js 20 the AWS SDK warns on every run that its releases after January 2027 need Node.js
// 22: a notice for whoever maintains this package (the README says which Node.js to use), not for
// an operator reading a command's output. Set before main() creates the first client.
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
