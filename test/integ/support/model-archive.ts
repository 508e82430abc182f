/**
 * Builds the failing model's `model.tar.gz` in Node at synth time: no Docker, no network, no `tar`
 * binary. SageMaker downloads the archive to /opt/ml/model and AWS's scikit-learn container loads
 * the script from its `code/` folder (SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code, as the
 * SageMaker Python SDK sets it when it repacks a model with an entry point:
 * https://sagemaker.readthedocs.io/en/stable/frameworks/sklearn/using_sklearn.html#deploy-a-scikit-learn-model).
 *
 * The archive is a POSIX ustar file (https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html#tag_20_92_13_06)
 * compressed with gzip. Every header field that could vary (time, owner) is fixed, so the same
 * inputs give the same bytes and the same CDK asset hash: snapshots stay stable.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';

/** One file of an archive. */
export interface ArchiveFile {
  /** Path inside the archive, with `/` separators and no leading `/` (at most 100 characters). */
  readonly path: string;
  /** File content. */
  readonly content: Buffer | string;
  /** Unix permission bits. @default 0o644 */
  readonly mode?: number;
}

const BLOCK = 512;
// 2026-01-01T00:00:00Z: a fixed modification time keeps the archive's bytes reproducible.
const FIXED_MTIME = 1767225600;

/** A gzip-compressed ustar archive of the files, with a directory entry for each parent folder. */
export function tarGz(files: readonly ArchiveFile[]): Buffer {
  const blocks: Buffer[] = [];
  const directories = new Set<string>();
  for (const file of files) {
    validatePath(file.path);
    const parts = file.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/') + '/';
      if (!directories.has(dir)) {
        directories.add(dir);
        blocks.push(header(dir, 0, 0o755, '5'));
      }
    }
    const content = Buffer.isBuffer(file.content) ? file.content : Buffer.from(file.content, 'utf8');
    blocks.push(header(file.path, content.length, file.mode ?? 0o644, '0'));
    blocks.push(content);
    const padding = (BLOCK - (content.length % BLOCK)) % BLOCK;
    if (padding > 0) blocks.push(Buffer.alloc(padding));
  }
  // The end of an archive is two zero blocks.
  blocks.push(Buffer.alloc(2 * BLOCK));
  return gzipSync(Buffer.concat(blocks), { level: 9 });
}

function validatePath(filePath: string): void {
  if (filePath === '' || filePath.startsWith('/') || filePath.split('/').includes('..') || Buffer.byteLength(filePath) > 100) {
    throw new Error(`archive path must be relative, without "..", and at most 100 bytes, got "${filePath}"`);
  }
}

function header(name: string, size: number, mode: number, typeflag: string): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, 'utf8');
  writeOctal(block, mode, 100, 8);
  writeOctal(block, 0, 108, 8); // uid
  writeOctal(block, 0, 116, 8); // gid
  writeOctal(block, size, 124, 12);
  writeOctal(block, FIXED_MTIME, 136, 12);
  block.fill(' ', 148, 156); // the checksum is computed with its own field as spaces
  block.write(typeflag, 156, 1, 'ascii');
  block.write('ustar\0', 257, 6, 'ascii');
  block.write('00', 263, 2, 'ascii');
  block.write('root', 265, 32, 'ascii');
  block.write('root', 297, 32, 'ascii');
  let checksum = 0;
  for (const byte of block) checksum += byte;
  block.write(checksum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return block;
}

function writeOctal(block: Buffer, value: number, offset: number, length: number): void {
  block.write(value.toString(8).padStart(length - 1, '0') + '\0', offset, length, 'ascii');
}

/** Folder of the failing model's Python sources. */
export const FAILING_MODEL_SOURCE_DIR = path.join(__dirname, 'failing-model');

/** Where the container finds the entry point inside the archive. */
export const INFERENCE_SCRIPT_PATH = 'code/inference.py';

/** Options of `failingModelArchive`. */
export interface FailingModelArchiveOptions {
  /** Reported in every answer, so a test can tell which model served a request. */
  readonly version: string;
  /** When true, every request fails. */
  readonly broken: boolean;
}

/** The files of the failing model: the inference script and its behaviour. */
export function failingModelFiles(options: FailingModelArchiveOptions): ArchiveFile[] {
  return [
    { path: INFERENCE_SCRIPT_PATH, content: fs.readFileSync(path.join(FAILING_MODEL_SOURCE_DIR, 'inference.py')) },
    { path: 'code/behaviour.json', content: JSON.stringify({ version: options.version, broken: options.broken }) + '\n' },
  ];
}

/**
 * Writes the failing model's archive to a cache folder named by its content hash and returns the
 * path of its `model.tar.gz` (the name `ModelData.fromAsset` requires).
 */
export function writeFailingModelArchive(options: FailingModelArchiveOptions, cacheDir = path.join(os.tmpdir(), 'cdk-sagemaker-rollout-integ')): string {
  const archive = tarGz(failingModelFiles(options));
  const hash = createHash('sha256').update(archive).digest('hex').slice(0, 16);
  const file = path.join(cacheDir, hash, 'model.tar.gz');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Written beside, then renamed: parallel synths never see half a file.
    const partial = `${file}.${process.pid}.partial`;
    fs.writeFileSync(partial, archive);
    fs.renameSync(partial, file);
  }
  return file;
}
