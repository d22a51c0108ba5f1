/**
 * The foreground life of `shadowplug sandbox`: start, print the ready line (and the JSON object
 * or the banner), narrate events, stop cleanly on SIGINT/SIGTERM. Returns the exit code.
 */
import { envName, type Values } from '../core/settings/schema';
import type { SANDBOX_SETTINGS } from './cli-settings';
import { errorMessage } from '../core/errors';
import { createLogger, type Logger } from '../core/logger';
import { formatBanner, READY_LINE } from './banner';
import type { SandboxEvent } from './event-log';
import { FleetNarration, RepeatFilter } from './fleet-narration';
import { startSandbox, type Sandbox, type SandboxOptions } from './sandbox';
import { SANDBOX_TPLINK_CREDENTIALS } from './sandbox-config';
import type { Credentials } from '../core/tplink/credentials';

/** What commander parses from SANDBOX_SETTINGS (`--plug` repeats; `--no-agents`/`--no-dashboard` set false). */
export type SandboxCliFlags = Partial<Omit<Values<typeof SANDBOX_SETTINGS>, 'plug'>> & { dir: string; devices: number; plug?: string[] };

/** `--tplink-username/--tplink-password`, else SHADOWPLUG_TPLINK_USERNAME/PASSWORD, else the sandbox's own account. */
export function sandboxCredentials(flags: Pick<SandboxCliFlags, 'tplinkUsername' | 'tplinkPassword'>, env: Record<string, string | undefined>): { plugCredentials?: Credentials } {
  const username = flags.tplinkUsername ?? env[envName('tplinkUsername')];
  const password = flags.tplinkPassword ?? env[envName('tplinkPassword')];
  if (username === undefined && password === undefined) return {};
  return { plugCredentials: { username: username ?? SANDBOX_TPLINK_CREDENTIALS.username, password: password ?? SANDBOX_TPLINK_CREDENTIALS.password } };
}

/** Past this, a stop that hangs is reported and the process leaves anyway. */
const STOP_DEADLINE_MS = 3_000;

function clock(): string {
  return new Date().toISOString().slice(11, 23);
}

/** The sandbox's options from the command's flags: those named alike pass through, the others are renamed. */
function sandboxOptionsOf(flags: SandboxCliFlags, logger: Logger): SandboxOptions {
  return {
    ...flags,
    plug: undefined,
    plugs: flags.plug,
    dataPlaneRatePerSecond: flags.dataPlaneRate,
    ...sandboxCredentials(flags, process.env),
    rollout: flags.rolloutConfig ?? flags.rollout,
    dashboard: flags.dashboard === false ? false : { port: flags.dashboardPort ?? 0 },
    logger,
  };
}

/**
 * Listens for SIGINT/SIGTERM from the start (a Ctrl-C during startup must still clean up), and
 * for a defect that escapes every handler: it too stops the sandbox cleanly (ports closed,
 * sandbox.json removed so `sandbox upload` does not find a dead sandbox), then the exit is 1.
 */
function listenForStop(io: { err: (s: string) => void }): { stopped: Promise<void>; crashed: () => boolean; unlisten: () => void } {
  let stopRequested!: () => void;
  const stopped = new Promise<void>((resolve) => (stopRequested = resolve));
  const onSignal = () => stopRequested();
  let crashed = false;
  const onCrash = (err: unknown) => {
    io.err(`shadowplug sandbox: unexpected error, stopping: ${err instanceof Error ? (err.stack ?? err.message) : errorMessage(err)}\n`);
    crashed = true;
    stopRequested();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  const unlisten = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  };
  return { stopped, crashed: () => crashed, unlisten };
}

export async function runSandboxCli(
  flags: SandboxCliFlags,
  io: { out: (s: string) => void; err: (s: string) => void } = {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
  },
): Promise<number> {
  const logger = createLogger({ level: flags.logLevel ?? (flags.verbose ? 'debug' : 'warn'), json: Boolean(flags.json), write: (l) => io.err(l + '\n') });
  const { stopped, crashed, unlisten } = listenForStop(io);
  let sandbox: Sandbox;
  try {
    sandbox = await startSandbox(sandboxOptionsOf(flags, logger));
  } catch (err) {
    unlisten();
    io.err(`shadowplug sandbox: ${errorMessage(err)}\n`);
    return 1;
  }

  // --json keeps every event but the repeats (an agent's retried error, a download's every chunk).
  const repeats = new RepeatFilter(Date.now, true);
  // A person reads lines, folded into one summary per upload for a fleet.
  const narration = new FleetNarration({ devices: sandbox.info.things.length, cwd: process.cwd() });
  const narrate = (event: SandboxEvent) => {
    if (!flags.json) {
      for (const line of narration.lines(event)) io.out(`${clock()} ${line.text}\n`);
      return;
    }
    if (!repeats.wanted(event)) return;
    io.err(JSON.stringify({ time: new Date().toISOString(), event: event.type, ...event, type: undefined }) + '\n');
  };
  sandbox.events.on('event', narrate);

  if (flags.json) io.out(`${READY_LINE}\n${JSON.stringify(sandbox.info)}\n`);
  else io.out(formatBanner(sandbox.info) + '\n');

  await stopped;
  const deadline = setTimeout(() => {
    io.err(`shadowplug sandbox: did not stop within ${STOP_DEADLINE_MS} ms; exiting anyway\n`);
    process.exit(1);
  }, STOP_DEADLINE_MS);
  deadline.unref();
  try {
    await sandbox.close();
  } catch (err) {
    io.err(`shadowplug sandbox: error while stopping: ${errorMessage(err)}\n`);
    return 1;
  } finally {
    clearTimeout(deadline);
    unlisten();
  }
  if (!flags.json) io.out(`${clock()} sandbox stopped\n`);
  return crashed() ? 1 : 0;
}
