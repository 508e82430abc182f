/**
 * Python tools for the tests (moto, cfn-lint, checkov), each in its own virtualenv under `.venvs/`.
 *
 * A venv is rebuilt only when its requirements file or the Python interpreter changed: a stamp file
 * inside the venv holds the hash of both, and is written last, so an install that failed halfway
 * leaves no stamp and the next run starts over.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** The project root (this file lives in test/support/). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** Absolute path of the gitignored folder that holds one venv per tool. */
export const VENVS_DIR = path.join(PROJECT_ROOT, '.venvs');

/** The tools every run needs (globalSetup), each installed from `requirements/<name>.txt` into `.venvs/<name>`. */
export const VENV_NAMES = ['moto', 'cfn-lint', 'checkov'] as const;

/**
 * Venvs that one test file prepares for itself, the same way: `cdk-python` (aws-cdk-lib for Python,
 * about 60 MB of wheels) is needed only by the Python parity test, which runs beside the others.
 */
export const ON_DEMAND_VENV_NAMES = ['cdk-python'] as const;

/** Name of one tool venv. */
export type VenvName = (typeof VENV_NAMES)[number] | (typeof ON_DEMAND_VENV_NAMES)[number];

const STAMP_FILE = '.requirements-stamp';
const PYTHON_NEEDED = 'python3 (3.9+) with the venv module: apt-get install python3 python3-venv';
// Lines of pip's output kept for the error message when an install fails.
const OUTPUT_TAIL_LINES = 40;

/** Path of an executable inside a tool venv, e.g. `venvExecutable('cfn-lint', 'cfn-lint')`. */
export function venvExecutable(name: VenvName, executable: string): string {
  return path.join(VENVS_DIR, name, 'bin', executable);
}

/**
 * Creates `.venvs/<name>` and installs `requirements/<name>.txt` into it, unless the venv is
 * already up to date. Returns the venv's bin directory.
 */
export async function ensureVenv(name: VenvName): Promise<string> {
  const venvDir = path.join(VENVS_DIR, name);
  const binDir = path.join(venvDir, 'bin');
  const requirementsFile = path.join(PROJECT_ROOT, 'requirements', `${name}.txt`);
  const stampFile = path.join(venvDir, STAMP_FILE);

  const pythonVersion = await checkPython();
  const requirements = await fs.readFile(requirementsFile, 'utf8');
  // The interpreter version is part of the stamp: a venv's python is a link to the system one and
  // breaks when that is upgraded.
  const stamp = createHash('sha256').update(`python ${pythonVersion}\n${requirements}`).digest('hex');
  if ((await readIfExists(stampFile)) === stamp) {
    return binDir;
  }

  process.stderr.write(`[python-tools] installing .venvs/${name} from requirements/${name}.txt (about a minute)\n`);
  await fs.rm(venvDir, { recursive: true, force: true });
  await run('python3', ['-m', 'venv', venvDir]);
  // --only-binary: wheels only, so an install never compiles anything from source (and stays
  // around a minute); pip then picks the newest release of each dependency that has a wheel.
  await run(path.join(binDir, 'python'), [
    '-m', 'pip', 'install',
    '--disable-pip-version-check', '--no-input', '--only-binary=:all:',
    '-r', requirementsFile,
  ]);
  // Written through a temporary file and renamed, so a stamp is never half written.
  await fs.writeFile(`${stampFile}.tmp`, stamp);
  await fs.rename(`${stampFile}.tmp`, stampFile);
  return binDir;
}

/** Brings all tool venvs up to date, in parallel. Returns each venv's bin directory. */
export async function ensureAllVenvs(): Promise<Record<VenvName, string>> {
  // Checked once up front so that a missing python3 is reported once, not once per venv.
  await checkPython();
  const results = await Promise.allSettled(VENV_NAMES.map((name) => ensureVenv(name)));
  const binDirs: Partial<Record<VenvName, string>> = {};
  const failures: string[] = [];
  results.forEach((result, i) => {
    const name = VENV_NAMES[i];
    if (result.status === 'fulfilled') {
      binDirs[name] = result.value;
    } else {
      failures.push(`.venvs/${name}: ${errorMessage(result.reason)}`);
    }
  });
  if (failures.length > 0) {
    throw new Error(`Could not prepare the Python tools for the tests:\n${failures.join('\n\n')}`);
  }
  return binDirs as Record<VenvName, string>;
}

let pythonCheck: Promise<string> | undefined;

/** Resolves to the python3 version ("3.11.7"), or rejects with what to install. Runs once per process. */
function checkPython(): Promise<string> {
  pythonCheck ??= (async () => {
    // ensurepip is what Debian splits out into python3-venv; without it `python3 -m venv` fails.
    const script = [
      'import sys, venv, ensurepip',
      'assert sys.version_info >= (3, 9), "python3 is %d.%d" % sys.version_info[:2]',
      'print("%d.%d.%d" % sys.version_info[:3])',
    ].join('\n');
    try {
      return (await run('python3', ['-c', script])).trim();
    } catch (error) {
      throw new Error(`The tests need ${PYTHON_NEEDED}.\n${errorMessage(error)}`);
    }
  })();
  return pythonCheck;
}

/** Runs a command; resolves to its stdout, or rejects with its exit status and the tail of its output. */
function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let output = '';
    const keep = (chunk: Buffer, isStdout: boolean): void => {
      const text = chunk.toString();
      if (isStdout) stdout += text;
      // Only the tail matters for an error message; pip prints a lot.
      output = (output + text).slice(-20_000);
    };
    child.stdout.on('data', (chunk: Buffer) => keep(chunk, true));
    child.stderr.on('data', (chunk: Buffer) => keep(chunk, false));
    child.on('error', (error) => reject(new Error(`${command}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) {
        resolve(stdout);
        return;
      }
      const tail = output.trimEnd().split('\n').slice(-OUTPUT_TAIL_LINES).join('\n');
      reject(new Error(`\`${command} ${args.join(' ')}\` failed (${signal ?? `exit code ${code}`}):\n${tail}`));
    });
  });
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
