import * as fs from 'fs';
import * as path from 'path';

/**
 * The folder of a handler bundle built by `npm run build` (scripts/bundle-handlers.js).
 *
 * The same code runs from the TypeScript sources (tests, ts-node) and from the compiled package
 * (`dist/`), one folder deeper, so the package root is found by walking up to our package.json.
 */
export function handlerBundleDir(name: string): string {
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf-8')).name === 'cdk-sagemaker-rollout') break;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cdk-sagemaker-rollout: cannot find the package root to load handler bundles from');
    dir = parent;
  }
  const bundle = path.join(dir, 'assets', name);
  if (!fs.existsSync(path.join(bundle, 'index.js'))) {
    throw new Error(`cdk-sagemaker-rollout: the handler bundle ${bundle}/index.js is missing; run "npm run build" first`);
  }
  return bundle;
}
