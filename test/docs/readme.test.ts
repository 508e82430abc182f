import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { buildExampleApp } from '../../bin/example-app';
import { ModelEndpoint } from '../../lib';
import { buildPrograms, extractBlocks, ReadmeProgram, readmePrograms } from '../support/readme-blocks';
import { compilePrograms, CompiledProgram, ROOT, runProgram } from '../support/readme-compiler';

/**
 * Every TypeScript block of the README compiles against the built package and synthesizes, so the
 * README cannot drift from the API. The convention (complete programs, `// example:`,
 * `// continues:`, `// compile only:`) is in docs/TESTING.md and the README's Contributing section.
 */

const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf-8');
const programs = readmePrograms(path.join(ROOT, 'README.md'));

const md = (...blocks: string[]) => blocks.map((b) => `\`\`\`ts\n${b}\n\`\`\``).join('\n\ntext\n\n');
/** Programs that prove the checks can fail, compiled in the same pass as the README's. */
const fixtures: ReadmeProgram[] = buildPrograms(extractBlocks(`# T\n\n${md(
  'import { App } from \'aws-cdk-lib\';\nconst app: App = 42;',
  [
    'import { Annotations, App, CfnWaitConditionHandle, Stack } from \'aws-cdk-lib\';',
    'const broken = new Stack(new App(), \'Broken\');',
    'new CfnWaitConditionHandle(broken, \'Handle\');',
    'Annotations.of(broken).addError(\'not deployable\');',
    'new CfnWaitConditionHandle(new Stack(new App(), \'Fine\'), \'Handle\');',
  ].join('\n'),
  'import { App, Stack } from \'aws-cdk-lib\';\nnew Stack(new App(), \'Empty\');',
)}`));

let compiled: CompiledProgram[];
let compiledFixtures: CompiledProgram[];

beforeAll(() => {
  // One TypeScript program for everything: aws-cdk-lib's declarations are read once.
  [compiled, compiledFixtures] = compilePrograms([{ markdown: 'README.md', programs }, { markdown: 'X.md', programs: fixtures }]);
}, 120_000);

const byName = (name: string) => compiled.find((c) => c.program.block.name === name);

test('the README has TypeScript examples to check', () => {
  expect(programs.length).toBeGreaterThanOrEqual(5);
});

describe.each(programs.map((p) => [`block ${p.block.index} (README.md:${p.block.line}, "${p.block.heading}")`, p.block.index] as const))('%s', (_name, index) => {
  const get = () => compiled.find((c) => c.program.block.index === index)!;

  test('compiles', () => {
    expect(get().errors).toEqual([]);
  });

  test('synthesizes every App it creates, without errors', () => {
    const c = get();
    if (c.program.block.compileOnly !== undefined) return; // Type-checked above; it says why it is not run.
    if (c.errors.length > 0) throw new Error('does not compile: see the test above');
    const result = runProgram(c);
    if (result.warnings.length > 0) process.stdout.write(`README block ${index}: ${result.warnings.length} warning(s):\n  ${result.warnings.join('\n  ')}\n`);
    expect(result.apps).toBeGreaterThanOrEqual(1);
    expect(result.stacks.length).toBeGreaterThanOrEqual(1);
    expect(result.errors).toEqual([]);
  });
});

describe('names the README shows are the names the code makes', () => {
  test('the generated endpoint name of the first example', () => {
    const first = byName('first-endpoint');
    expect(first).toBeDefined();
    const shown = /a stable lower-case name from the construct path and a hash of it \(`([a-z0-9-]+)` above/.exec(README);
    expect(shown).not.toBeNull();
    const { templates } = runProgram(first!);
    const endpoints = Object.values(templates).flatMap((t) => Object.values<any>(t.Resources).filter((r) => r.Type === 'AWS::SageMaker::Endpoint'));
    expect(endpoints.map((e) => e.Properties.EndpointName)).toEqual([shown![1]]);
  });

  test('the example app\'s endpoint names', () => {
    const app = new App();
    const real = new Map(buildExampleApp(app).flatMap((stack) => stack.node.findAll()
      .filter((c): c is ModelEndpoint => c instanceof ModelEndpoint)
      .map((e) => [stack.stackName.toLowerCase(), e.endpointName] as const)));
    const shown = [...README.matchAll(/\b([a-z]+stack)-recommender-[0-9a-f]{8}\b/g)];
    expect(shown.length).toBeGreaterThan(0);
    for (const [name, stack] of shown) expect([stack, name]).toEqual([stack, real.get(stack)]);
  });
});

describe('the block convention', () => {
  test('a continuation is the named block followed by its own code, with README lines kept', () => {
    const blocks = extractBlocks(['# Title', '', md('// example: first\nconst a = 1;', '// continues: first\nconst b = a + 1;')].join('\n'));
    expect(blocks.map((b) => [b.index, b.line, b.name, b.continues, b.heading])).toEqual([[1, 4, 'first', undefined, 'Title'], [2, 11, undefined, 'first', 'Title']]);
    const [, second] = buildPrograms(blocks);
    expect(second.source).toBe('// example: first\nconst a = 1;\n// continues: first\nconst b = a + 1;');
    expect(second.lineMap).toEqual([4, 5, 11, 12]);
  });

  test('continuations chain', () => {
    const [, , third] = buildPrograms(extractBlocks(md('// example: a\nconst a = 1;', '// example: b\n// continues: a\nconst b = a;', '// continues: b\nconst c = b;')));
    expect(third.source.split('\n').filter((l) => !l.startsWith('//'))).toEqual(['const a = 1;', 'const b = a;', 'const c = b;']);
  });

  test('other languages are not programs; ```typescript is', () => {
    const blocks = extractBlocks('```sh\nnpm test\n```\n```json\n{}\n```\n```typescript\nconst x = 1;\n```\n');
    expect(blocks.map((b) => b.code)).toEqual(['const x = 1;']);
  });

  test('compile only, with its reason', () => {
    const [block] = extractBlocks(md('// compile only: calls SageMaker at run time\nconst a = 1;'));
    expect(block.compileOnly).toBe('calls SageMaker at run time');
  });

  test.each([
    ['an unknown name', md('// continues: nothing\nconst a = 1;'), '"// continues: nothing" names no block; name the earlier block with "// example: nothing"'],
    ['a later block', md('// continues: late\nconst a = 1;', '// example: late\nconst b = 1;'), '"// continues: late" names a block that comes later'],
    ['a name used twice', md('// example: twice\nconst a = 1;', '// example: twice\nconst b = 1;'), 'the block name "twice" is used twice'],
    ['a bad name', md('// example: Two Words\nconst a = 1;'), '"// example: Two Words": a block name is lower case letters, digits and hyphens'],
    ['compile only without a reason', md('// compile only:\nconst a = 1;'), '"// compile only:" must say why the block is not run'],
    ['an unclosed block', '```ts\nconst a = 1;\n', 'line 1: the code block opened here is never closed'],
  ])('refuses %s', (_name, markdown, message) => {
    expect(() => buildPrograms(extractBlocks(markdown))).toThrow(message);
  });

  test('markers count only in the leading comments', () => {
    const [block] = extractBlocks(md('// A comment first\n// example: top\nconst a = 1;\n// continues: ignored'));
    expect([block.name, block.continues]).toEqual(['top', undefined]);
  });

  test('a program with a type error is reported at its Markdown line', () => {
    expect(compiledFixtures[0].errors).toEqual(["X.md:5: Type 'number' is not assignable to type 'App'."]);
  });

  test('a program\'s Apps are found and synthesized; an error annotation is reported', () => {
    const c = compiledFixtures[1];
    expect(c.errors).toEqual([]);
    const result = runProgram(c);
    expect(result.apps).toBe(2);
    expect(result.stacks).toEqual(['Broken', 'Fine']);
    expect(result.errors).toEqual(['/Broken: not deployable']);
  });

  test('CDK\'s template validator runs in strict mode, with this repository\'s cdk.json context', () => {
    expect(() => runProgram(compiledFixtures[2])).toThrow('Resources section must exist and be non-empty');
  });
});
