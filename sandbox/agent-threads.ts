/**
 * The sandbox's agents in worker threads (agent-worker.ts), for fleets: each thread runs a share
 * of the agents, which talk to this thread's IoT Core stand-in and S3 over their real sockets as
 * before; their narrated steps and log lines come back as messages.
 */
import { Worker } from 'node:worker_threads';
import { ShadowplugError } from '../core/errors';
import { silentLogger, type Logger, type LogLevel } from '../core/logger';
import { sandboxConfigError } from './errors';
import type { Emit } from './narration';
import type { SandboxEvent } from './event-log';
import type { Teardown } from './teardown';
import type { AgentSpec, SandboxAgents } from './wire-agents';

export interface AgentWorkerData {
  specs: AgentSpec[];
  /** Forward log lines (false: the sandbox's logger is silent). */
  logs: boolean;
  onlineTimeoutMs: number;
}

export type AgentWorkerRequest = { id: number; type: 'stop'; thing: string } | { id: number; type: 'start'; thing: string; clockOffsetMs?: number } | { id: number; type: 'close' };

export type AgentWorkerMessage =
  | { type: 'event'; event: SandboxEvent }
  | { type: 'log'; level: Exclude<LogLevel, 'silent'>; message: string; fields: Record<string, unknown> }
  | { type: 'ready' }
  | { type: 'failed'; message: string; code: string; retryable: boolean }
  | { type: 'reply'; id: number; result?: unknown; error?: string };

export interface AgentThreadsOptions {
  threads: number;
  emit: Emit;
  logger: Logger;
  onlineTimeoutMs: number;
}

/**
 * Under tsx (tests, benchmarks) the worker is the TypeScript source, loaded through a small
 * module that registers tsx in the new thread; in the build (scripts/build.mjs) it is
 * agent-worker.mjs beside this code.
 */
function workerEntry(): URL {
  return import.meta.url.endsWith('.ts') ? new URL('./agent-worker-tsx.mjs', import.meta.url) : new URL('./agent-worker.mjs', import.meta.url);
}

/** Starts the agents spread over `threads` workers; resolves once all are online (SANDBOX_TIMEOUT otherwise). */
export async function startAgentThreads(specs: AgentSpec[], options: AgentThreadsOptions, teardown: Teardown): Promise<SandboxAgents> {
  const shares = Array.from({ length: Math.min(options.threads, specs.length) }, (_, i) => specs.filter((_s, j) => j % options.threads === i));
  const threads = shares.map((share) => new AgentThread(share, options));
  const byThing = new Map<string, AgentThread>();
  threads.forEach((t, i) => shares[i]!.forEach((s) => byThing.set(s.thingName, t)));
  teardown.add('agent threads', async () => void (await Promise.allSettled(threads.map((t) => t.close()))));
  await Promise.all(threads.map((t) => t.ready));
  const threadOf = (thing: string): AgentThread => {
    const t = byThing.get(thing);
    if (!t) throw sandboxConfigError(`no agent for thing "${thing}"`);
    return t;
  };
  return {
    stop: async (thing) => (await threadOf(thing).request({ type: 'stop', thing })) as boolean,
    start: async (thing, clock) => void (await threadOf(thing).request({ type: 'start', thing, ...(clock ? { clockOffsetMs: clock() - Date.now() } : {}) })),
  };
}

type Request = AgentWorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

class AgentThread {
  readonly ready: Promise<void>;
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private exited = false;

  constructor(specs: AgentSpec[], private readonly options: AgentThreadsOptions) {
    const data: AgentWorkerData = { specs, logs: options.logger !== silentLogger, onlineTimeoutMs: options.onlineTimeoutMs };
    this.worker = new Worker(workerEntry(), { workerData: data });
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (m: AgentWorkerMessage) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'failed') reject(new ShadowplugError(m.message, { code: m.code, retryable: m.retryable }));
        else this.onMessage(m);
      });
      this.worker.on('error', (err) => {
        options.logger.error('agent thread failed', { err });
        reject(err);
        this.failPending(err);
      });
      this.worker.on('exit', (code) => {
        this.exited = true;
        reject(new ShadowplugError(`the agent thread exited (${code}) before its agents were online`, { code: 'SANDBOX_AGENTS', retryable: false }));
        this.failPending(new Error(`agent thread exited (${code})`));
      });
    });
    // Teardown waits on close, not on this.
    this.ready.catch(() => undefined);
  }

  request(req: Request): Promise<unknown> {
    if (this.exited) return Promise.reject(new Error('agent thread has exited'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id });
    });
  }

  /** Closes its agents, then ends the thread. */
  async close(): Promise<void> {
    if (this.exited) return;
    await this.request({ type: 'close' }).catch(() => undefined);
    await this.worker.terminate();
  }

  private onMessage(m: AgentWorkerMessage): void {
    if (m.type === 'event') this.options.emit(m.event);
    else if (m.type === 'log') this.options.logger[m.level](m.message, m.fields);
    else if (m.type === 'reply') {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error !== undefined) p?.reject(new Error(m.error));
      else p?.resolve(m.result);
    }
  }

  private failPending(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
