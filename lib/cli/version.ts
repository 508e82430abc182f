import * as fs from 'fs';
import * as path from 'path';

/**
 * This package's version, from its package.json. The CLI runs from the compiled package (and may
 * be bundled into another folder), so the manifest is found by walking up to the one named
 * cdk-sagemaker-rollout.
 */
export function packageVersion(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      const pkg = JSON.parse(fs.readFileSync(manifest, 'utf-8'));
      if (pkg.name === 'cdk-sagemaker-rollout') return String(pkg.version);
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}
