/**
 * Synthesizes integration cases in one Node process: `synth-all.ts <outRoot> <case files...>`.
 * Each case's `App` reads CDK_OUTDIR when it is constructed and synthesizes itself when the
 * process ends, so setting the variable before each `require` gives every case its own cloud
 * assembly in `<outRoot>/<case file name>`. One process instead of one per case keeps the
 * snapshot check fast (ts-node starts once).
 */
import * as path from 'node:path';

const [outRoot, ...files] = process.argv.slice(2);
if (!outRoot || files.length === 0) {
  process.stderr.write('usage: synth-all.ts <outRoot> <case files...>\n');
  process.exit(2);
}
for (const file of files) {
  process.env.CDK_OUTDIR = path.join(outRoot, path.basename(file));
  require(path.resolve(file));
}
