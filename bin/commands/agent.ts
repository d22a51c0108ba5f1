/**
 * `shadowplug agent`, also the whole of the installed agent (bin/shadowplug-agent.ts). Flags per
 * agent/options.ts (the seed's snake_case spellings are hidden aliases).
 */
import type { EventEmitter } from 'node:events';
import { Option, type Command } from 'commander';
import { AGENT_FLAGS, type OptionName } from '../../agent/options';
import { collect } from './common';

/**
 * A graceful stop (downloads keep their partial file, hooks under way finish) gets this long;
 * then the process leaves with status 1. The systemd unit's TimeoutStopSec is longer.
 */
export const AGENT_STOP_DEADLINE_MS = 10_000;

export const AGENT_DESCRIPTION = 'Keep the file named in the device shadow installed, verified and reported (the device program)';

export function registerAgent(program: Command): void {
  configureAgentCommand(program.command('agent').description(AGENT_DESCRIPTION));
}

/** Adds the agent's options and action to `cmd`. */
export function configureAgentCommand(cmd: Command): Command {
  const aliasAttributes: [string, OptionName][] = [];
  for (const spec of AGENT_FLAGS) {
    const option = new Option(spec.flag, spec.help);
    cmd.addOption(spec.repeatable ? option.argParser(collect) : option);
    const arg = spec.flag.includes('<') ? ` ${spec.flag.slice(spec.flag.indexOf('<'))}` : '';
    for (const alias of spec.aliases ?? []) {
      const option = new Option(`${alias}${arg}`).hideHelp();
      cmd.addOption(option);
      aliasAttributes.push([option.attributeName(), spec.name]);
    }
  }
  cmd.action(async (raw: Record<string, unknown>) => {
    // Collect values under their option names (an alias counts when the kebab flag is absent).
    const flags: Partial<Record<OptionName, unknown>> = {};
    for (const spec of AGENT_FLAGS) if (raw[spec.name] !== undefined) flags[spec.name] = raw[spec.name];
    for (const [attr, name] of aliasAttributes) if (raw[attr] !== undefined && flags[name] === undefined) flags[name] = raw[attr];
    await runAgent(flags);
  });
  return cmd;
}

async function runAgent(flags: Partial<Record<OptionName, unknown>>): Promise<void> {
  const { resolveAgentOptions } = await import('../../agent/options');
  const { AgentConfigError } = await import('../../agent/errors');
  const { createLogger } = await import('../../core/logger');
  const { errorMessage } = await import('../../core/errors');
  const { routeProcessWarnings } = await import('../../core/process-warnings');
  let options;
  try {
    options = await resolveAgentOptions(flags);
  } catch (err) {
    console.error(`shadowplug agent: ${errorMessage(err)}`);
    process.exitCode = 2;
    return;
  }
  const logger = createLogger({ json: options.json, level: options.logLevel });
  // Before the SDK loads: its Node-version notice becomes one structured warning line.
  routeProcessWarnings(process, logger);
  const { startAgent, syncOnce } = await import('../../agent/agent');
  const { attachProgress } = await import('../../agent/progress');
  const progressTo = (agent: EventEmitter) =>
    attachProgress(agent, { tty: !options.json && !!process.stderr.isTTY, write: (t) => process.stderr.write(t), logger, columns: process.stderr.columns });
  // Long-running: listen from the start, so a signal while starting stops cleanly too.
  let stopRequested: string | undefined;
  let stop = (signal: string) => void (stopRequested ??= signal);
  if (!options.once) for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => stop(s));
  try {
    if (options.once) {
      process.exitCode = await syncOnce({ ...options, logger, onAgent: progressTo });
      return;
    }
    const agent = await startAgent({ ...options, logger });
    progressTo(agent);
    agent.on('error', () => undefined); // already logged by the agent; keeps EventEmitter from throwing
    // One line per change handled: a supervisor or a test waits for it instead of waiting a while.
    agent.on('idle', ({ version }) => logger.info('idle', { shadowVersion: version }));
    let stopping = false;
    stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('stopping', { signal });
      // A hook that will not end must not keep the process alive for ever.
      setTimeout(() => {
        logger.error('did not stop in time; exiting', { deadlineMs: AGENT_STOP_DEADLINE_MS });
        process.exit(1);
      }, AGENT_STOP_DEADLINE_MS).unref();
      agent.close().then(
        () => {
          logger.info('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          logger.error('error while stopping', { err });
          process.exit(1);
        },
      );
    };
    if (stopRequested) stop(stopRequested);
  } catch (err) {
    if (err instanceof AgentConfigError) {
      console.error(`shadowplug agent: ${errorMessage(err)}`);
      process.exitCode = 2;
      return;
    }
    logger.error('agent could not start', { err });
    process.exitCode = 1;
  }
}
