/**
 * Every UNCONFIRMED item of the README's "Limits and unconfirmed behaviour" links to the
 * integration case that settles it on a real account (a file that exists under test/integ/), or,
 * while no case exists, to the pending cases of docs/INTEGRATION.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

function unconfirmedItems(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Limits and unconfirmed behaviour'));
  const body = section.slice(0, section.indexOf('\n## ', 5));
  return body.split(/\n(?=- )/).filter((item) => item.startsWith('- **UNCONFIRMED'));
}

test('the README lists unconfirmed behaviour', () => {
  expect(unconfirmedItems().length).toBeGreaterThanOrEqual(7);
});

test.each(unconfirmedItems().map((item) => [item.split('\n')[0].slice(0, 90), item]))('links a case: %s', (_title, item) => {
  const cases = [...item.matchAll(/\]\((test\/integ\/integ\.[\w.-]+\.ts)\)/g)].map((m) => m[1]);
  const pending = item.includes('](docs/INTEGRATION.md#pending-cases)');
  expect(cases.length > 0 || pending).toBe(true);
  for (const file of cases) expect(fs.existsSync(path.join(ROOT, file))).toBe(true);
});

test('the pending section the README links to exists', () => {
  expect(fs.readFileSync(path.join(ROOT, 'docs', 'INTEGRATION.md'), 'utf8')).toContain('\n## Pending cases\n');
});
