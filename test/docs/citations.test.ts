import * as fs from 'fs';
import * as path from 'path';

/**
 * Shipped code, and the docs in this repository, cite AWS's own pages: a comment that points at a
 * file the reader does not have (the team's private notes, SAGEMAKER-FACTS.md) ends up in the
 * package's .d.ts files and explains nothing.
 */
const ROOT = path.resolve(__dirname, '..', '..');

function files(dir: string, ext: RegExp): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return files(full, ext);
    return ext.test(entry.name) ? [full] : [];
  });
}

const checked = [
  ...files(path.join(ROOT, 'lib'), /\.ts$/),
  ...files(path.join(ROOT, 'bin'), /\.ts$/),
  ...files(path.join(ROOT, 'docs'), /\.md$/),
  path.join(ROOT, 'README.md'),
  path.join(ROOT, 'BENCHMARKS.md'),
].filter((f) => fs.existsSync(f));

test('no shipped code or doc cites a file that is not in the repository or the package', () => {
  const offenders = checked.flatMap((file) => fs.readFileSync(file, 'utf-8').split('\n')
    .map((line, i) => ({ line, at: `${path.relative(ROOT, file)}:${i + 1}` }))
    .filter(({ line }) => /SAGEMAKER-FACTS/i.test(line))
    .map(({ at }) => at));
  expect(offenders).toEqual([]);
  expect(checked.length).toBeGreaterThan(20);
});
