/**
 * The `--on-update` hook: a shell command run after each verified install, with what was
 * installed in its environment. Hooks run one at a time; their output and exit status are
 * logged. A failing hook changes nothing: the file stays installed and nothing is retried.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '../core/logger';
import { SerialQueue } from '../core/util/serial-queue';
import type { InstalledFile } from './state-store';

/** The file just installed, and for which property of which thing. */
export type HookContext = Pick<InstalledFile, 'path' | 'hash' | 'url' | 'versionId' | 'size'> & { property: string; thingName: string };

/** The variables a hook sees (besides the agent's own environment). */
export function hookEnvironment(ctx: HookContext): Record<string, string> {
  return {
    SHADOWPLUG_PATH: ctx.path,
    SHADOWPLUG_HASH: ctx.hash,
    SHADOWPLUG_URL: ctx.url,
    SHADOWPLUG_SIZE: String(ctx.size),
    SHADOWPLUG_PROPERTY: ctx.property,
    SHADOWPLUG_THING_NAME: ctx.thingName,
    ...(ctx.versionId ? { SHADOWPLUG_VERSION_ID: ctx.versionId } : {}),
  };
}

export class HookRunner {
  private readonly queue = new SerialQueue();

  constructor(
    private readonly command: string,
    private readonly logger: Logger,
  ) {}

  /** Queue a run; resolves with the exit code (or -1 when it could not start). */
  run(ctx: HookContext): Promise<number> {
    return this.queue.run(() => this.spawnOnce(ctx));
  }

  /** Resolves when every queued hook has finished. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private spawnOnce(ctx: HookContext): Promise<number> {
    return new Promise((resolve) => {
      const started = Date.now();
      const child = spawn(this.command, { shell: true, env: { ...process.env, ...hookEnvironment(ctx) }, stdio: ['ignore', 'pipe', 'pipe'] });
      for (const [stream, name] of [[child.stdout, 'stdout'], [child.stderr, 'stderr']] as const) {
        createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => this.logger.info('on-update output', { stream: name, line }));
      }
      child.on('error', (err) => {
        this.logger.error('on-update command could not start', { command: this.command, err });
        resolve(-1);
      });
      child.on('close', (code, signal) => {
        const fields = { command: this.command, exitCode: code, signal, ms: Date.now() - started, path: ctx.path };
        if (code === 0) this.logger.info('on-update command finished', fields);
        else this.logger.warn('on-update command failed (the file stays installed)', fields);
        resolve(code ?? -1);
      });
    });
  }
}
