/**
 * Jest globalSetup: runs once, in the parent process, before any test file.
 *
 * Brings the Python tool venvs up to date, starts one moto server for the whole run and points the
 * AWS SDK of every test worker at it through environment variables (workers are started after this
 * function returns and inherit `process.env`).
 */
import * as path from 'node:path';
import { MotoServer, startMotoServer } from './moto-server';
import { ensureAllVenvs, VENVS_DIR } from './python-tools';

declare global {
  // The running moto server, handed from globalSetup to globalTeardown (jest runs both in the same
  // context; test workers never see it).
  var rolloutMotoServer: MotoServer | undefined;
}

/** Fake credentials: moto accepts any, and real ones must never leave this machine in a test. */
const FAKE_CREDENTIAL = 'testing';

export default async function globalSetup(): Promise<void> {
  const binDirs = await ensureAllVenvs();
  const moto = await startMotoServer({ binDir: binDirs.moto, logFile: path.join(VENVS_DIR, 'moto-server.log') });
  globalThis.rolloutMotoServer = moto;

  // Anything that could send an SDK call elsewhere than moto, or sign it with real credentials, goes.
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('AWS_ENDPOINT_URL_')) delete process.env[name]; // per-service endpoints win over AWS_ENDPOINT_URL
  }
  delete process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS; // would make the SDK ignore AWS_ENDPOINT_URL
  delete process.env.AWS_SESSION_TOKEN; // a real session token would be sent along with the fake keys

  process.env.AWS_ENDPOINT_URL = moto.endpoint;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = FAKE_CREDENTIAL;
  process.env.AWS_SECRET_ACCESS_KEY = FAKE_CREDENTIAL;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.ROLLOUT_VENVS_DIR = VENVS_DIR;
  // The SDK warns on every process that Node 20 support ends in 2027; the README says so once.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
}
