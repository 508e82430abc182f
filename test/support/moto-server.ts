/**
 * Starts and stops `moto_server` (the AWS API emulator) on loopback.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, WriteStream } from 'node:fs';
import * as path from 'node:path';

/** A running moto server. */
export interface MotoServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`: what `AWS_ENDPOINT_URL` should be. */
  readonly endpoint: string;
  /** Process id of moto_server. */
  readonly pid: number;
  /** Stops the server; resolves at once if it has already exited. Safe to call twice. */
  stop(): Promise<void>;
}

/** Options for {@link startMotoServer}. */
export interface StartMotoOptions {
  /** bin directory of the venv that has moto[server] installed. */
  readonly binDir: string;
  /** How long to wait for moto to answer. @default 60 seconds */
  readonly timeoutMs?: number;
  /** File that receives moto's whole output (request log, Python tracebacks). @default - not kept */
  readonly logFile?: string;
}

const HOST = '127.0.0.1';
// Lines of moto's output kept for error messages.
const TAIL_LINES = 30;
const STOP_GRACE_MS = 5_000;

/** Starts moto_server on 127.0.0.1 and a free port, and resolves once it answers HTTP requests. */
export async function startMotoServer(options: StartMotoOptions): Promise<MotoServer> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  // Port 0: moto binds a free port itself and prints it, so no other process can take the port
  // between our choosing it and moto binding it.
  const child = spawn(path.join(options.binDir, 'moto_server'), ['-H', HOST, '-p', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  const output = new OutputTail(options.logFile);
  child.stdout?.on('data', (chunk: Buffer) => output.add(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.add(chunk));
  // Never leave moto behind if this process ends without calling stop() (a crash, Ctrl-C).
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    await stopChild(child);
    output.close();
  };

  try {
    const port = await waitForPort(child, output, timeoutMs);
    const endpoint = `http://${HOST}:${port}`;
    await waitUntilAnswering(endpoint, child, output, timeoutMs);
    return { endpoint, pid: child.pid ?? -1, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Resolves to the port moto printed ("Running on http://127.0.0.1:PORT"). */
function waitForPort(child: ChildProcess, output: OutputTail, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      done();
      reject(motoError(`moto_server did not report its port within ${timeoutMs} ms`, output));
    }, timeoutMs);
    const onOutput = (): void => {
      const match = /Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(output.text());
      if (match) {
        done();
        resolve(Number(match[1]));
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      done();
      reject(motoError(`moto_server exited (${signal ?? `exit code ${code}`}) before it was ready`, output));
    };
    const onError = (error: Error): void => {
      done();
      reject(motoError(`moto_server could not be started: ${error.message}`, output));
    };
    const done = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onOutput);
      child.stderr?.off('data', onOutput);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    // Listeners added after OutputTail's, so the chunk is already in the tail when they run.
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

/** Polls moto's own API until it answers 200. */
async function waitUntilAnswering(endpoint: string, child: ChildProcess, output: OutputTail, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw motoError(`moto_server exited (${child.signalCode ?? `exit code ${child.exitCode}`}) before it was ready`, output);
    }
    try {
      const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.ok) return;
      lastProblem = `HTTP ${response.status}`;
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw motoError(`moto_server at ${endpoint} did not answer within ${timeoutMs} ms (${lastProblem})`, output);
}

/** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
async function stopChild(child: ChildProcess): Promise<void> {
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  if (exited()) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await gone;
  clearTimeout(timer);
}

function motoError(message: string, output: OutputTail): Error {
  return new Error(`${message}. Last lines of moto's output:\n${output.tail(TAIL_LINES) || '(none)'}`);
}

/** Keeps the recent part of moto's output in memory, and all of it in a log file if asked. */
class OutputTail {
  private buffer = '';
  private readonly log?: WriteStream;

  constructor(logFile?: string) {
    this.log = logFile ? createWriteStream(logFile) : undefined;
  }

  add(chunk: Buffer): void {
    this.log?.write(chunk);
    // moto logs every request; a bounded buffer keeps memory flat over a long test run.
    this.buffer = (this.buffer + chunk.toString()).slice(-20_000);
  }

  text(): string {
    return this.buffer;
  }

  tail(lines: number): string {
    return this.buffer.trimEnd().split('\n').slice(-lines).join('\n');
  }

  close(): void {
    this.log?.end();
  }
}
