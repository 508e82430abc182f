import * as fs from 'fs';

/**
 * The TypeScript blocks of a Markdown file, and the programs they make (the README convention,
 * docs/TESTING.md "The README is compiled"):
 *
 * - Every ```ts (or ```typescript) block is a program: imports, an `App`, a `Stack`.
 * - `// example: <name>` on one of its first lines names a block.
 * - `// continues: <name>` on one of its first lines makes a block the continuation of the named,
 *   earlier block: its program is the named block's program followed by this block.
 * - `// compile only: <why>` marks a block that is type-checked but not run (application code that
 *   would call AWS, for example). It must say why.
 *
 * Markers are read only from the comment lines at the top of a block, before the first line of code.
 */

/** One fenced TypeScript block. */
export interface ReadmeBlock {
  /** 1-based position among the TypeScript blocks of the file. */
  readonly index: number;
  /** 1-based line of the block's first code line in the Markdown file. */
  readonly line: number;
  /** The heading the block sits under (for test names). */
  readonly heading: string;
  /** The block's code, without the fences. */
  readonly code: string;
  readonly name?: string;
  readonly continues?: string;
  /** Why the block is type-checked only; undefined when it runs. */
  readonly compileOnly?: string;
}

/** A block as a whole program: its own code after everything it continues. */
export interface ReadmeProgram {
  readonly block: ReadmeBlock;
  /** The program's source. */
  readonly source: string;
  /** For each line of `source` (0-based), the Markdown line it came from (1-based). */
  readonly lineMap: number[];
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/;
const MARKER = /^\s*\/\/\s*(example|continues|compile only):\s*(.*?)\s*$/;
const NAME = /^[a-z0-9][a-z0-9-]*$/;

/** The TypeScript blocks of a Markdown text, in order. Throws on a malformed marker. */
export function extractBlocks(markdown: string): ReadmeBlock[] {
  const lines = markdown.split('\n');
  const blocks: ReadmeBlock[] = [];
  let heading = '(top)';
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) {
      const h = /^#{1,6}\s+(.*)$/.exec(lines[i]);
      if (h) heading = h[1].trim();
      continue;
    }
    const fence = open[2];
    const lang = open[3].toLowerCase();
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end].trimStart().startsWith(fence)) end++;
    if (end >= lines.length) throw new Error(`line ${i + 1}: the code block opened here is never closed`);
    if (lang === 'ts' || lang === 'typescript') {
      const body = lines.slice(start, end);
      blocks.push({ index: blocks.length + 1, line: start + 1, heading, code: body.join('\n'), ...readMarkers(body, start + 1) });
    }
    i = end;
  }
  return blocks;
}

function readMarkers(body: string[], firstLine: number): { name?: string; continues?: string; compileOnly?: string } {
  const found: { name?: string; continues?: string; compileOnly?: string } = {};
  for (let j = 0; j < body.length; j++) {
    const text = body[j];
    if (text.trim() === '') continue;
    if (!text.trim().startsWith('//')) break;
    const m = MARKER.exec(text);
    if (!m) continue;
    const where = `line ${firstLine + j}`;
    const [, kind, value] = m;
    if (kind === 'compile only') {
      if (value === '') throw new Error(`${where}: "// compile only:" must say why the block is not run`);
      found.compileOnly = value;
      continue;
    }
    if (!NAME.test(value)) throw new Error(`${where}: "// ${kind}: ${value}": a block name is lower case letters, digits and hyphens`);
    if (kind === 'example') found.name = value;
    else found.continues = value;
  }
  return found;
}

/** Every block as a program, continuations resolved. Throws on an unknown, later or duplicate name. */
export function buildPrograms(blocks: ReadmeBlock[]): ReadmeProgram[] {
  const byName = new Map<string, ReadmeProgram>();
  const programs: ReadmeProgram[] = [];
  for (const block of blocks) {
    const own = block.code.split('\n');
    const ownLines = own.map((_, k) => block.line + k);
    let program: ReadmeProgram = { block, source: block.code, lineMap: ownLines };
    if (block.continues !== undefined) {
      const base = byName.get(block.continues);
      if (!base) {
        const later = blocks.some((b) => b.index > block.index && b.name === block.continues);
        throw new Error(`README line ${block.line}: "// continues: ${block.continues}" names ${later ? 'a block that comes later' : 'no block'}; `
          + `name the earlier block with "// example: ${block.continues}"`);
      }
      program = { block, source: `${base.source}\n${block.code}`, lineMap: [...base.lineMap, ...ownLines] };
    }
    if (block.name !== undefined) {
      if (byName.has(block.name)) throw new Error(`README line ${block.line}: the block name "${block.name}" is used twice`);
      byName.set(block.name, program);
    }
    programs.push(program);
  }
  return programs;
}

/** The programs of a Markdown file. */
export function readmePrograms(file: string): ReadmeProgram[] {
  return buildPrograms(extractBlocks(fs.readFileSync(file, 'utf-8')));
}
