import { parseArgs } from 'util';
import { deleteLeftovers, findLeftovers } from '../runtime/cleanup';
import { describeEndpoint, EndpointNotFoundError } from '../runtime/endpoint-ops';
import { DeadlineExceededError, isBusyEndpoint, isThrottling } from '../runtime/retry';
import { manualRollback, pause, promote, resume, RollbackFailedError, RolloutError } from '../runtime/rollout';
import { announce } from '../runtime/announce';
import { ROLLOUT_EVENT_SOURCE } from '../runtime/spec';
import { compareVariants, renderComparison } from './compare-command';
import { CliClients, CliError, createClients, ExitCode, openEndpoint, rolloutDeps } from './context';
import { parseDurationMs, parseTime, table } from './format';
import { actorOf, callerIdentity } from './identity';
import { configsKeptForReverts, renderRevert, revertEndpoint, waitForConfig } from './revert-command';
import { gatherStatus, renderStatus } from './status';

export const USAGE = `Usage: npx cdk-sagemaker-rollout <command> [options]

See and steer the rollouts of endpoints made with cdk-sagemaker-rollout.

Commands:
  status <endpoint>                  variants, weights, alarms, the rollout's step and its recent history
  promote <endpoint> [--to <pct>]    move the canary to the next step (or to <pct>); refused while an alarm fires
  rollback <endpoint> [--reason <t>] send the canary's traffic back to production (0%); it stays there
  pause <endpoint>                   stop taking steps (alarms still roll back)
  resume <endpoint>                  carry on after a pause; after a rollback, start again from the first step
  compare <endpoint>                 how often the shadow's answers agree with production's (from data capture)
  revert <endpoint> [--reason <t>]   send a blue/green endpoint back to its previous recorded config (all at once;
                                     --guarded reuses its deployment guardrails); it stays there until the code changes
  cleanup [--delete]                 list (or delete) kept endpoint configs and models that nothing uses (and no revert needs)

Options:
  --json                 machine-readable output on stdout
  --wait                 after a change, wait until the endpoint has applied it, showing progress
  --timeout <duration>   how long to retry a busy endpoint or to --wait (default 10m)
  --region <region>      AWS region (default: the standard AWS configuration)
  --as <label>           a label for the audit trail, beside the caller's identity (the ARN from STS), which is always recorded
  --history <n>          history entries shown by status (default 10)
  compare:  --since <1h|ISO> (default 1h)  --until <ISO> (default now)  --tolerance <rel> (default 0.01)
            --examples <n> (default 5)  --capture-uri <s3://bucket/prefix>  --production <variant>  --shadow <variant>
            --max-files <n> (default 500)
  cleanup:  --delete  --min-age <duration> (default 1h: younger leftovers may belong to a deployment in progress)

Exit codes: 0 done, 1 failed, 2 bad arguments, 3 endpoint not found, 4 not managed by this library,
5 busy (updating, or another change in flight), 6 refused (an alarm fires, or the rollout's state forbids it;
revert: no previous config recorded, it or its models deleted, or a canary endpoint), 7 --wait timed out. The credential chain and AWS_ENDPOINT_URL are the AWS SDK's.`;

/** What the CLI needs from its surroundings; tests give their own. */
export interface CliIO {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  readonly env: Record<string, string | undefined>;
  readonly clients?: (region: string | undefined) => CliClients;
}

const OPTIONS = {
  'json': { type: 'boolean' },
  'wait': { type: 'boolean' },
  'guarded': { type: 'boolean' },
  'help': { type: 'boolean', short: 'h' },
  'delete': { type: 'boolean' },
  'timeout': { type: 'string' },
  'region': { type: 'string' },
  'as': { type: 'string' },
  'to': { type: 'string' },
  'reason': { type: 'string' },
  'history': { type: 'string' },
  'since': { type: 'string' },
  'until': { type: 'string' },
  'tolerance': { type: 'string' },
  'examples': { type: 'string' },
  'capture-uri': { type: 'string' },
  'production': { type: 'string' },
  'shadow': { type: 'string' },
  'max-files': { type: 'string' },
  'min-age': { type: 'string' },
  'poll-interval': { type: 'string' },
} as const;

type Values = ReturnType<typeof parse>['values'];

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

/** Runs one command; returns the exit code. Never throws. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}`);
    return ExitCode.USAGE;
  }
  const { values, positionals } = parsed;
  const [command, endpointName, ...extra] = positionals;
  if (values.help || command === undefined || command === 'help') {
    io.out(USAGE);
    return command === undefined && !values.help ? ExitCode.USAGE : ExitCode.OK;
  }
  try {
    if (extra.length > 0) throw new CliError(`unexpected arguments: ${extra.join(' ')}`, ExitCode.USAGE);
    const clients = (io.clients ?? createClients)(values.region);
    return await run(command, endpointName, values, clients, io);
  } catch (error) {
    const { code, message } = classify(error);
    if (values.json) io.out(JSON.stringify({ error: message, exitCode: code }, null, 2));
    io.err(`error: ${message}${code === ExitCode.USAGE ? '\n\nRun with --help for usage.' : ''}`);
    return code;
  }
}

function classify(error: unknown): { code: ExitCode; message: string } {
  const message = (error as Error)?.message ?? String(error);
  if (error instanceof CliError) return { code: error.exitCode, message };
  if (error instanceof EndpointNotFoundError) return { code: ExitCode.NOT_FOUND, message: `${message}: nothing was changed` };
  if (error instanceof RolloutError) {
    const code = { 'not-managed': ExitCode.NOT_MANAGED, 'busy': ExitCode.BUSY, 'alarm': ExitCode.REFUSED, 'not-allowed': ExitCode.REFUSED }[error.code];
    return { code, message: `${message}; nothing was changed` };
  }
  if (error instanceof RollbackFailedError && error.cause instanceof DeadlineExceededError) return { code: ExitCode.BUSY, message };
  if (error instanceof DeadlineExceededError || isBusyEndpoint(error) || isThrottling(error)) {
    return { code: ExitCode.BUSY, message: `the endpoint is busy or throttled (${message}); try again later` };
  }
  return { code: ExitCode.FAILED, message };
}

function requireEndpoint(command: string, endpointName: string | undefined): string {
  if (!endpointName) throw new CliError(`${command} needs an endpoint name: npx cdk-sagemaker-rollout ${command} <endpoint>`, ExitCode.USAGE);
  return endpointName;
}

function numberOption(name: string, value: string | undefined, fallback: number, check: (n: number) => boolean, range: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || !check(n)) throw new CliError(`--${name} must be ${range}, got "${value}"`, ExitCode.USAGE);
  return n;
}

function durationOption(name: string, value: string | undefined, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  const ms = parseDurationMs(value);
  if (ms === undefined || ms <= 0) throw new CliError(`--${name} must be a duration such as 90s, 10m or 2h, got "${value}"`, ExitCode.USAGE);
  return ms;
}

async function run(command: string, endpointArg: string | undefined, values: Values, clients: CliClients, io: CliIO): Promise<number> {
  const timeoutMs = durationOption('timeout', values.timeout, 10 * 60_000);
  // Every write records the caller's identity (STS); read-only commands do not ask for it.
  const identify = () => callerIdentity(clients.sts, values.as);
  const actor = async () => actorOf(await identify());
  const deadlines = () => ({ final: new Date(io.now().getTime() + timeoutMs) });
  const print = (json: unknown, text: string) => io.out(values.json ? JSON.stringify(json, null, 2) : text);

  switch (command) {
    case 'status': {
      const history = numberOption('history', values.history, 10, (n) => Number.isInteger(n) && n >= 0 && n <= 1000, 'a whole number from 0 to 1000');
      const target = await openEndpoint(clients, requireEndpoint(command, endpointArg));
      const report = await gatherStatus(clients, target, history);
      print(report, renderStatus(report));
      return ExitCode.OK;
    }
    case 'promote': {
      const to = values.to === undefined ? undefined
        : numberOption('to', values.to, 0, (n) => Number.isInteger(n) && n >= 1 && n <= 100, 'a whole percent from 1 to 100');
      const target = await openEndpoint(clients, requireEndpoint(command, endpointArg));
      const state = await promote(rolloutDeps(clients, target, io), target.endpoint.name, await actor(), to, deadlines());
      return finish(clients, io, values, target.endpoint.name, timeoutMs, { action: 'promote', endpoint: target.endpoint.name, state },
        `${target.endpoint.name}: the canary now gets ${state.percent}% of traffic (${state.status}).`);
    }
    case 'rollback': {
      const reason = values.reason ?? 'no reason given';
      const target = await openEndpoint(clients, requireEndpoint(command, endpointArg));
      const outcome = await manualRollback(rolloutDeps(clients, target, io), target.endpoint.name, await actor(), reason, deadlines());
      return finish(clients, io, values, target.endpoint.name, timeoutMs, { action: 'rollback', endpoint: target.endpoint.name, outcome },
        outcome === 'rolled-back'
          ? `${target.endpoint.name}: the canary gets 0% of traffic and stays there until "resume" or a new candidate.`
          : `${target.endpoint.name}: the canary was already rolled back; nothing changed.`);
    }
    case 'pause': {
      const target = await openEndpoint(clients, requireEndpoint(command, endpointArg));
      const state = await pause(rolloutDeps(clients, target, io), target.endpoint.name, await actor());
      print({ action: 'pause', endpoint: target.endpoint.name, state }, `${target.endpoint.name}: paused at ${state.percent}%. Alarms still roll it back; "resume" to go on.`);
      return ExitCode.OK;
    }
    case 'resume': {
      const target = await openEndpoint(clients, requireEndpoint(command, endpointArg));
      const state = await resume(rolloutDeps(clients, target, io), target.endpoint.name, await actor(), deadlines());
      return finish(clients, io, values, target.endpoint.name, timeoutMs, { action: 'resume', endpoint: target.endpoint.name, state },
        `${target.endpoint.name}: resumed at ${state.percent}% (step ${state.stepIndex + 1}).`);
    }
    case 'compare': {
      const now = io.now();
      const since = values.since === undefined ? new Date(now.getTime() - 3_600_000) : parseTime(values.since, now);
      const until = values.until === undefined ? now : parseTime(values.until, now);
      if (!since || !until || since >= until) throw new CliError('--since and --until must be times (ISO 8601, or a duration ago such as 2h), with --since before --until', ExitCode.USAGE);
      const target = await openEndpoint(clients, requireEndpoint(command, endpointArg));
      const result = await compareVariants(clients, target, {
        since, until,
        captureUri: values['capture-uri'],
        productionVariant: values.production,
        shadowVariant: values.shadow,
        tolerance: numberOption('tolerance', values.tolerance, 0.01, (n) => n >= 0, 'a number of at least 0'),
        examples: numberOption('examples', values.examples, 5, (n) => Number.isInteger(n) && n >= 0, 'a whole number'),
        maxFiles: numberOption('max-files', values['max-files'], 500, (n) => Number.isInteger(n) && n >= 1, 'a whole number of at least 1'),
      });
      print(result, renderComparison(result));
      return ExitCode.OK;
    }
    case 'cleanup': {
      if (endpointArg) throw new CliError('cleanup takes no endpoint: it looks at every endpoint config and model of the account and region', ExitCode.USAGE);
      const minAgeMs = durationOption('min-age', values['min-age'], 3_600_000);
      const identity = values.delete ? await identify() : undefined;
      const report = await findLeftovers(clients.sagemaker, { now: io.now(), minAgeMs, keep: (e) => configsKeptForReverts(clients, e) });
      if (values.delete) await deleteLeftovers(clients.sagemaker, report.unused);
      let announceError: string | undefined;
      if (identity && report.unused.length > 0) {
        // The record of who deleted what: an event on the default bus (no endpoint's table owns leftovers).
        await announce({ events: clients.events, sns: clients.sns, eventSource: ROLLOUT_EVENT_SOURCE }, {
          type: 'Leftovers Deleted', endpointName: '-', summary: `${report.unused.length} kept configs and models deleted by ${identity.label ?? identity.arn}`,
          message: '', detail: { by: identity.arn, label: identity.label ?? null, deleted: report.unused.map((l) => ({ kind: l.kind, name: l.name })), time: io.now().toISOString() },
        }).catch((error) => { announceError = (error as Error).message; });
      }
      const rows = report.unused.map((l) => [l.kind, l.name, l.createdAt?.toISOString() ?? '-']);
      print({ ...report, deleted: values.delete ? report.unused : [], by: identity?.arn, label: identity?.label, announceError }, [
        report.unused.length === 0 ? 'No unused endpoint configs or models made by cdk-sagemaker-rollout.'
          : `${values.delete ? `Deleted by ${identity ? actorOf(identity) : ''}` : 'Unused (run again with --delete to delete them)'}:\n${table(['KIND', 'NAME', 'CREATED'], rows)}`,
        announceError ? `warning: the deletion was made, but announcing it failed: ${announceError}` : '',
        report.tooRecent.length > 0 ? `Left alone, younger than --min-age: ${report.tooRecent.map((l) => l.name).join(', ')}` : '',
      ].filter((l) => l !== '').join('\n'));
      return ExitCode.OK;
    }
    case 'revert': {
      const target = await openEndpoint(clients, requireEndpoint(command, endpointArg));
      const outcome = await revertEndpoint(clients, target, {
        guarded: values.guarded ?? false, reason: values.reason ?? 'no reason given', identity: await identify(), now: io.now,
      });
      let code = ExitCode.OK;
      if (values.wait) {
        code = await waitForConfig(clients, io, outcome.endpoint, outcome.to.config, timeoutMs, durationOption('poll-interval', values['poll-interval'], 15_000));
      }
      print({ ...outcome, settled: values.wait ? code === ExitCode.OK : undefined }, renderRevert(outcome));
      return code;
    }
    default:
      throw new CliError(`unknown command "${command}"`, ExitCode.USAGE);
  }
}

/** Prints the outcome of a change, after waiting for the endpoint to apply it when asked. */
async function finish(clients: CliClients, io: CliIO, values: Values, endpointName: string, timeoutMs: number, json: Record<string, unknown>, text: string): Promise<number> {
  let code = ExitCode.OK;
  if (values.wait) {
    const pollMs = durationOption('poll-interval', values['poll-interval'], 5_000);
    code = await waitUntilSettled(clients, io, endpointName, timeoutMs, pollMs);
  }
  io.out(values.json ? JSON.stringify({ ...json, settled: values.wait ? code === ExitCode.OK : undefined }, null, 2) : text);
  return code;
}

/** Polls until the endpoint is InService with every variant at its desired weight and count, showing progress on stderr. */
async function waitUntilSettled(clients: CliClients, io: CliIO, endpointName: string, timeoutMs: number, pollMs: number): Promise<ExitCode> {
  const start = io.now().getTime();
  for (;;) {
    const e = await describeEndpoint(clients.sagemaker, endpointName);
    const settling = e.variants.filter((v) => (v.desiredWeight !== undefined && v.currentWeight !== undefined && v.desiredWeight !== v.currentWeight)
      || (v.desiredInstanceCount !== undefined && v.currentInstanceCount !== undefined && v.desiredInstanceCount !== v.currentInstanceCount));
    const elapsed = Math.round((io.now().getTime() - start) / 1000);
    if (e.status === 'InService' && settling.length === 0) {
      io.err(`waiting for ${endpointName}: InService, weights applied (${elapsed} s)`);
      return ExitCode.OK;
    }
    io.err(`waiting for ${endpointName}: ${e.status}${settling.length > 0 ? `, ${settling.map((v) => `${v.name} ${v.currentWeight} -> ${v.desiredWeight}`).join(', ')}` : ''} (${elapsed} s)`);
    if (io.now().getTime() - start + pollMs > timeoutMs) {
      io.err(`gave up waiting after ${elapsed} s; the change goes on without us: check with "status ${endpointName}"`);
      return ExitCode.WAIT_TIMED_OUT;
    }
    await io.sleep(pollMs);
  }
}
