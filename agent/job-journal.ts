/**
 * What the job runner has done, persisted in `<state dir>/jobs.json` (written atomically) so a
 * restart never runs a job twice: the job under way (and whether its on-update hook was started),
 * and the outcome of each finished job (kept until IoT has it, then for the last few jobs).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { installError } from './errors';
import { writeFileAtomic } from './fs-atomic';

export interface JobOutcome {
  status: 'SUCCEEDED' | 'FAILED';
  statusDetails: Record<string, string>;
}

/** A job's file installed and its on-update hook started: the hook is never started twice. */
export interface HookStarted {
  jobId: string;
  hash: string;
}

interface JournalFile {
  format: 1;
  current?: string;
  hookStarted?: HookStarted;
  outcomes: { jobId: string; outcome: JobOutcome }[];
}

const KEEP = 20;

export class JobJournal {
  private constructor(
    readonly file: string,
    private state: JournalFile,
  ) {}

  static async open(stateDir: string): Promise<JobJournal> {
    const file = join(stateDir, 'jobs.json');
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw installError(`cannot read ${file}: ${(err as Error).message}`, err, false);
    }
    if (text === undefined) return new JobJournal(file, { format: 1, outcomes: [] });
    try {
      const parsed = JSON.parse(text) as JournalFile;
      if (parsed.format !== 1 || !Array.isArray(parsed.outcomes)) throw new Error('unknown format');
      return new JobJournal(file, parsed);
    } catch (err) {
      throw installError(`job journal ${file} is corrupt (${(err as Error).message}); move it away to start afresh`, err, false);
    }
  }

  /** The job that was under way when the agent stopped, if any. */
  get current(): string | undefined {
    return this.state.current;
  }

  outcome(jobId: string): JobOutcome | undefined {
    return this.state.outcomes.find((o) => o.jobId === jobId)?.outcome;
  }

  /** The hook of this job was started and the agent stopped before its outcome was written. */
  hookStarted(jobId: string): HookStarted | undefined {
    const h = this.state.hookStarted;
    return h?.jobId === jobId ? h : undefined;
  }

  async start(jobId: string): Promise<void> {
    await this.write({ format: 1, current: jobId, outcomes: this.state.outcomes });
  }

  async startHook(jobId: string, hash: string): Promise<void> {
    await this.write({ ...this.state, current: jobId, hookStarted: { jobId, hash } });
  }

  async finish(jobId: string, outcome: JobOutcome): Promise<void> {
    const outcomes = [...this.state.outcomes.filter((o) => o.jobId !== jobId), { jobId, outcome }].slice(-KEEP);
    await this.write({ format: 1, outcomes });
  }

  private async write(next: JournalFile): Promise<void> {
    try {
      await writeFileAtomic(this.file, JSON.stringify(next, null, 2) + '\n');
    } catch (err) {
      throw installError(`cannot write ${this.file}: ${(err as Error).message}`, err);
    }
    this.state = next;
  }
}
