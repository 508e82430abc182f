import { parseArgs } from 'util';
import { deleteLeftovers, findLeftovers } from '../runtime/cleanup';
import { describeEndpoint, EndpointNotFoundError } from '../runtime/endpoint-ops';
import { DeadlineExceededError, isBusyEndpoint, isThrottling } from '../runtime/retry';
import { manualRollback, pause, promote, resume, RollbackFailedError, RolloutError } from '../runtime/rollout';
import { announce } from '../runtime/announce';
import { ROLLOUT_EVENT_SOURCE } from '../runtime/spec';
import { compareVariants, renderComparison } from './compare-command';
import { awsSetupProblem } from './aws-setup';
import { CliClients, CliError, createClients, ExitCode, openEndpoint, rolloutDeps } from './context';
import { parseDurationMs, parseTime, table } from './format';
import { actorOf, callerIdentity } from './identity';
import { listManagedEndpoints, renderList } from './list';
import { configsKeptForReverts, renderRevert, revertEndpoint, waitForConfig } from './revert-command';
import { packageVersion } from './version';
import { gatherStatus, renderStatus } from './status';

/** A command's help: what `<command> --help` prints, and its line in the general usage. */
interface CommandHelp {
  readonly usage: string;
  readonly summary: string;
  /** What the command does, in more words than the summary. */
  readonly description: string;
  /** Options of this command only (the common ones are listed for every command). */
  readonly options: string[];
  /** Which common options apply. */
  readonly common: ReadonlyArray<'json' | 'wait' | 'timeout' | 'as'>;
}

const COMMANDS: Record<string, CommandHelp> = {
  list: {
    usage: 'list',
    summary: 'every endpoint this library manages here, with its strategy and rollout state',
    description: 'Lists every endpoint of the account and region that carries the cdk-sagemaker-rollout:managed-by tag: its status, its strategy\n'
      + '(canary or shadow while a candidate is registered, else blue/green or rolling) and where its rollout stands.',
    options: [],
    common: ['json'],
  },
  status: {
    usage: 'status <endpoint> [--history <n>]',
    summary: 'variants, weights, alarms, the rollout\'s step and its recent history',
    description: 'Shows what the endpoint is doing and why: variants and weights, rollback alarms and their states, the rollout\'s step,\n'
      + 'a change in flight, a standing rollback, and the most recent decisions.',
    options: ['--history <n>          history entries shown (default 10)'],
    common: ['json'],
  },
  promote: {
    usage: 'promote <endpoint> [--to <pct>]',
    summary: 'move the canary to the next step (or to <pct>); refused while an alarm fires',
    description: 'Moves the canary to its next step, or to --to <pct>; passes a manual gate. Refused while an alarm is in ALARM,\n'
      + 'while the rollout is rolled back or paused, and while another change is in flight.',
    options: ['--to <pct>             the percent to move to (1-100)'],
    common: ['json', 'wait', 'timeout', 'as'],
  },
  rollback: {
    usage: 'rollback <endpoint> [--reason <text>]',
    summary: 'send the canary\'s traffic back to production (0%); it stays there',
    description: 'Sends all traffic to production: the candidate stays at 0% until "resume" or a new candidate. A busy endpoint is\n'
      + 'retried until --timeout; the rollback stays recorded and the controller applies it once the endpoint is back in service.',
    options: ['--reason <text>        why, for the audit trail and the announcement'],
    common: ['json', 'wait', 'timeout', 'as'],
  },
  pause: {
    usage: 'pause <endpoint>',
    summary: 'stop taking steps (alarms still roll back)',
    description: 'Stops the promotion schedule at the current step. Alarms still roll the canary back.',
    options: [],
    common: ['json', 'as'],
  },
  resume: {
    usage: 'resume <endpoint>',
    summary: 'carry on after a pause; after a rollback, start again from the first step',
    description: 'Carries on after a pause. After a rollback, starts the same candidate again from its first step (its alarms must be OK).',
    options: [],
    common: ['json', 'wait', 'timeout', 'as'],
  },
  compare: {
    usage: 'compare <endpoint> [--since <1h|ISO>]',
    summary: 'how often the shadow\'s answers agree with production\'s (from data capture)',
    description: 'Pairs the shadow\'s captured answers with production\'s (by inference id, event id, then identical input) and reports\n'
      + 'how often they agree, exactly and within --tolerance, with both variants\' latency and a few disagreeing examples.',
    options: [
      '--since <1h|ISO>       start of the window (default 1h ago)',
      '--until <ISO>          end of the window (default now)',
      '--tolerance <rel>      relative tolerance for numbers (default 0.01)',
      '--examples <n>         disagreeing examples shown (default 5)',
      '--capture-uri <s3://bucket/prefix>  where the captures are (default: the endpoint\'s data capture destination)',
      '--production <variant>, --shadow <variant>  the variants to compare (default: the rollout\'s)',
      '--max-files <n>        capture files read at most (default 500)',
    ],
    common: ['json'],
  },
  revert: {
    usage: 'revert <endpoint> [--guarded] [--reason <text>]',
    summary: 'send a blue/green endpoint back to its previous recorded config; it stays there until the code changes',
    description: 'Switches the endpoint back to the config that was live before the current one, as the post-deploy check recorded it\n'
      + '(UpdateEndpoint, all at once by default, keeping the live instance counts). A later deployment that would put the reverted\n'
      + 'model back is refused until the code changes the model or sets acknowledgeRevert. Refused, with no change, when the\n'
      + 'previous config or its models no longer exist, when the endpoint is not InService, or for a canary (use "rollback").',
    options: [
      '--guarded              reuse the endpoint\'s deployment guardrails (traffic shift, bake, rollback alarms) instead of all at once',
      '--reason <text>        why, for the audit trail and the announcement',
    ],
    common: ['json', 'wait', 'timeout', 'as'],
  },
  cleanup: {
    usage: 'cleanup [--delete] [--min-age <duration>]',
    summary: 'list (or delete) kept endpoint configs and models that nothing uses (and no revert needs)',
    description: 'Lists the endpoint configs and models made by this library that no endpoint uses or is moving to, and that no revert\n'
      + 'could need (the config a revert would go back to, and the template\'s while a revert stands); --delete deletes them.',
    options: [
      '--delete               delete them (configs first, then models)',
      '--min-age <duration>   leave younger ones alone (default 1h: they may belong to a deployment in progress)',
    ],
    common: ['json', 'as'],
  },
};

const COMMON_OPTIONS: Record<CommandHelp['common'][number], string> = {
  json: '--json                 machine-readable output on stdout',
  wait: '--wait                 after the change, wait until the endpoint has applied it, showing progress on stderr',
  timeout: '--timeout <duration>   how long to retry a busy endpoint or to --wait (default 10m)',
  as: '--as <label>           a label for the audit trail, beside the caller\'s identity (the ARN from STS), which is always recorded',
};

const EXIT_CODES = `Exit codes: 0 done, 1 failed, 2 bad arguments or no region or credentials, 3 endpoint not found,
4 not managed by this library, 5 busy (updating, or another change in flight), 6 refused (an alarm fires, or the
rollout's state forbids it; revert: no previous config recorded, it or its models deleted, or a canary endpoint),
7 --wait timed out.`;

const AWS_SETTINGS = `AWS: --region <region> (or AWS_REGION); credentials from the standard chain (AWS_PROFILE, AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, SSO, instance roles); AWS_ENDPOINT_URL is honoured.`;

/** The general usage: every command, the common options. */
export const USAGE = `Usage: npx cdk-sagemaker-rollout <command> [options]

See and steer the rollouts of endpoints made with cdk-sagemaker-rollout.

Commands:
${Object.values(COMMANDS).map((c) => `  ${c.usage.padEnd(40)} ${c.summary}`).join('\n')}

Options:
  ${COMMON_OPTIONS.json}
  ${COMMON_OPTIONS.wait}
  ${COMMON_OPTIONS.timeout}
  --region <region>      AWS region (default: AWS_REGION, or your profile's region)
  ${COMMON_OPTIONS.as}
  --help, -h             this help; "<command> --help" for one command's options
  --version              the version of cdk-sagemaker-rollout

${EXIT_CODES}
${AWS_SETTINGS}`;

/** One command's help. */
export function commandUsage(name: string): string {
  const c = COMMANDS[name];
  return [
    `Usage: npx cdk-sagemaker-rollout ${c.usage} [options]`,
    '',
    c.description,
    '',
    'Options:',
    ...[...c.options, ...c.common.map((o) => COMMON_OPTIONS[o]), '--region <region>      AWS region (default: AWS_REGION, or your profile\'s region)']
      .map((o) => `  ${o}`),
    '',
    EXIT_CODES,
    AWS_SETTINGS,
  ].join('\n');
}

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
  'version': { type: 'boolean' },
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
  if (values.version) {
    io.out(packageVersion());
    return ExitCode.OK;
  }
  // "<command> --help" and "help <command>" describe one command; "--help" and "help" all of them.
  const helpFor = command === 'help' ? endpointName : (values.help ? command : undefined);
  if (helpFor !== undefined && COMMANDS[helpFor] !== undefined) {
    io.out(commandUsage(helpFor));
    return ExitCode.OK;
  }
  if (helpFor !== undefined) {
    io.err(`error: unknown command "${helpFor}"\n\nRun "npx cdk-sagemaker-rollout --help" for the commands.`);
    return ExitCode.USAGE;
  }
  if (values.help || command === undefined || command === 'help') {
    io.out(USAGE);
    return command === undefined && !values.help ? ExitCode.USAGE : ExitCode.OK;
  }
  try {
    if (extra.length > 0) throw new CliError(`unexpected arguments: ${extra.join(' ')}`, ExitCode.USAGE);
    if (COMMANDS[command] === undefined) throw new CliError(`unknown command "${command}"`, ExitCode.USAGE);
    const clients = (io.clients ?? createClients)(values.region);
    return await run(command, endpointName, values, clients, io);
  } catch (error) {
    const { code, message } = classify(error);
    if (values.json) io.out(JSON.stringify({ error: message, exitCode: code }, null, 2));
    const usageHint = code === ExitCode.USAGE && error instanceof CliError
      ? `\n\nRun "npx cdk-sagemaker-rollout ${COMMANDS[command] ? `${command} ` : ''}--help" for usage.` : '';
    io.err(`error: ${message}${usageHint}`);
    return code;
  }
}

function classify(error: unknown): { code: ExitCode; message: string } {
  const message = (error as Error)?.message ?? String(error);
  if (error instanceof CliError) return { code: error.exitCode, message };
  const setup = awsSetupProblem(error, process.env);
  if (setup) return { code: ExitCode.USAGE, message: setup };
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
    case 'list': {
      if (endpointArg) throw new CliError('list takes no endpoint: it lists every endpoint of the account and region that this library manages', ExitCode.USAGE);
      const report = await listManagedEndpoints(clients);
      print(report, renderList(report));
      return ExitCode.OK;
    }
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
