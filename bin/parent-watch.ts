/**
 * `npx` does not pass SIGTERM on to the command it runs: a supervisor that stops npm's process
 * leaves ours orphaned, still holding its ports. So, when started by npm, we watch our parent
 * and stop the way a signal would once it is gone (the kernel hands orphans to another parent).
 */
export interface ParentWatchOptions {
  /** The current parent pid (process.ppid in production). */
  ppid: () => number;
  /** Called once when the parent has changed. */
  onGone: (was: number, now: number) => void;
  intervalMs?: number;
}

/** Starts watching; returns a function that stops. The timer never keeps the process alive. */
export function watchParent(options: ParentWatchOptions): () => void {
  const original = options.ppid();
  const timer = setInterval(() => {
    const now = options.ppid();
    if (now === original) return;
    clearInterval(timer);
    options.onGone(original, now);
  }, options.intervalMs ?? 250);
  timer.unref();
  return () => clearInterval(timer);
}

/** True when npm (`npx`, `npm exec`, `npm run`) started this process. */
export function startedByNpm(env: NodeJS.ProcessEnv): boolean {
  return env.npm_command !== undefined || env.npm_lifecycle_event !== undefined;
}
