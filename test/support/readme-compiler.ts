import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import * as ts from 'typescript';
import { ReadmeProgram } from './readme-blocks';

/**
 * Compiles README programs the way a user's app is compiled, all in one TypeScript program (one
 * pass over aws-cdk-lib's declarations, instead of one per block), and runs them.
 *
 * `cdk-sagemaker-rollout` resolves to this repository as an installed package would: through
 * package.json's `types` (for the compiler) and `main` (at run time), so the README is checked
 * against the built package (`npm run build` first, which `npm test` does).
 */

export const ROOT = path.resolve(__dirname, '..', '..');
const PACKAGE_NAME = 'cdk-sagemaker-rollout';

/** The outcome of compiling one README program. */
export interface CompiledProgram {
  readonly program: ReadmeProgram;
  /** The emitted CommonJS code. */
  readonly javascript: string;
  /** Type errors, each as `README.md:<line>: <message>`. */
  readonly errors: string[];
}

/** Strict like this repository's own code, minus the rules that are about our style, not correctness. */
const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.CommonJS,
  moduleResolution: ts.ModuleResolutionKind.Node10,
  lib: ['lib.es2022.d.ts'],
  strict: true,
  esModuleInterop: true,
  skipLibCheck: true,
  types: ['node'],
  baseUrl: ROOT,
  paths: { [PACKAGE_NAME]: [ROOT] },
  sourceMap: false,
};

/** Programs of one Markdown file. */
export interface ProgramSet {
  /** The Markdown file's name, for messages. */
  readonly markdown: string;
  readonly programs: ReadmeProgram[];
}

/**
 * Type-checks and emits every program of every set in one TypeScript program; returns the sets'
 * programs in the same order.
 */
export function compilePrograms(sets: ProgramSet[]): CompiledProgram[][] {
  const dir = path.join(ROOT, 'test', 'docs', '__readme__');
  const fileOf = (set: number, p: ReadmeProgram) => path.join(dir, `set-${set}-block-${String(p.block.index).padStart(2, '0')}.ts`);
  const sources = new Map(sets.flatMap((set, i) => set.programs.map((p) => [fileOf(i, p), p.source] as const)));
  const emitted = new Map<string, string>();

  const host = ts.createCompilerHost(COMPILER_OPTIONS);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => sources.has(f) || fileExists.call(host, f);
  host.readFile = (f) => sources.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, languageVersion, onError, shouldCreate) => {
    const text = sources.get(f);
    return text !== undefined ? ts.createSourceFile(f, text, languageVersion, true) : getSourceFile.call(host, f, languageVersion, onError, shouldCreate);
  };
  host.writeFile = (f, text) => emitted.set(f, text);

  const tsProgram = ts.createProgram([...sources.keys()], COMPILER_OPTIONS, host);
  const global = ts.getPreEmitDiagnostics(tsProgram).filter((d) => d.file === undefined || !sources.has(d.file.fileName));
  if (global.length > 0) {
    throw new Error(`the README programs cannot be compiled at all:\n${global.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n')}`);
  }
  return sets.map((set, i) => set.programs.map((p) => {
    const file = tsProgram.getSourceFile(fileOf(i, p))!;
    tsProgram.emit(file);
    const errors = ts.getPreEmitDiagnostics(tsProgram, file).map((d) => {
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      if (d.start === undefined) return `${set.markdown}: ${text}`;
      const { line } = file.getLineAndCharacterOfPosition(d.start);
      return `${set.markdown}:${p.lineMap[line] ?? '?'}: ${text}`;
    });
    const javascript = emitted.get(fileOf(i, p).replace(/\.ts$/, '.js'));
    if (javascript === undefined) throw new Error(`no JavaScript was emitted for ${set.markdown} block ${p.block.index}`);
    return { program: p, javascript, errors };
  }));
}

/** What running a program produced. */
export interface RunResult {
  /** How many apps the program created. */
  readonly apps: number;
  /** The stacks synthesized, by artifact id. */
  readonly stacks: string[];
  /** The synthesized templates, by stack artifact id. */
  readonly templates: Record<string, any>;
  /** Error annotations (what fails `cdk synth`), as `<construct path>: <message>`. */
  readonly errors: string[];
  /** Warning annotations, for the test's log. */
  readonly warnings: string[];
}

/**
 * Runs a compiled program in this process and synthesizes every `App` it created (a README
 * program, like most CDK apps, leaves `app.synth()` to the CDK CLI). Apps are found by handing the
 * program an `aws-cdk-lib` whose `App` records its instances; everything else is the real module,
 * so the library and the program share one aws-cdk-lib. The apps get this repository's cdk.json
 * context, so CDK's CloudFormation validator checks them in strict mode, as it checks the example app.
 */
export function runProgram(compiled: CompiledProgram): RunResult {
  const apps: cdk.App[] = [];
  const outdirs: string[] = [];
  // The repository's own context (cdk.json): CDK's template validator in strict mode, as for the example app.
  const repoContext = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf-8')).context ?? {};
  class RecordedApp extends cdk.App {
    constructor(props: cdk.AppProps = {}) {
      const outdir = props.outdir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'readme-synth-'));
      if (props.outdir === undefined) outdirs.push(outdir);
      super({ ...props, outdir, context: { ...repoContext, ...props.context } });
      apps.push(this);
    }
  }
  const cdkForProgram = new Proxy(cdk, { get: (target, prop, receiver) => (prop === 'App' ? RecordedApp : Reflect.get(target, prop, receiver)) });
  const programRequire = (id: string): unknown => {
    if (id === 'aws-cdk-lib') return cdkForProgram;
    if (id === PACKAGE_NAME) return require(ROOT);
    return require(require.resolve(id, { paths: [ROOT] }));
  };
  const module = { exports: {} };
  const file = path.join(ROOT, 'test', 'docs', '__readme__', `block-${String(compiled.program.block.index).padStart(2, '0')}.js`);
  try {
    new Function('require', 'module', 'exports', '__filename', '__dirname', compiled.javascript)(programRequire, module, module.exports, file, path.dirname(file));
    const assemblies = apps.map((app) => app.synth());
    const messages = assemblies.flatMap((a) => a.stacksRecursively.flatMap((s) => s.messages));
    const render = (m: cdk.cx_api.SynthesisMessage) => `${m.id}: ${m.entry.data}`;
    return {
      apps: apps.length,
      stacks: assemblies.flatMap((a) => a.stacksRecursively.map((s) => s.id)),
      templates: Object.fromEntries(assemblies.flatMap((a) => a.stacksRecursively.map((s) => [s.id, s.template]))),
      errors: messages.filter((m) => m.level === cdk.cx_api.SynthesisMessageLevel.ERROR).map(render),
      warnings: messages.filter((m) => m.level === cdk.cx_api.SynthesisMessageLevel.WARNING).map(render),
    };
  } finally {
    for (const dir of outdirs) fs.rmSync(dir, { recursive: true, force: true });
  }
}
