/**
 * What the job runner has done, persisted in `<state dir>/jobs.json` (written atomically) so a
 * restart never runs a job twice: the job under way (and whether its on-update hook was started),
 * and the outcome of each finished job (kept until IoT has it, then for the last few jobs).
 */
import { join } from 'node:path';
import { readStateFile, writeStateFile } from './fs-atomic';

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
    const parsed = await readStateFile<JournalFile>(file, 'job journal', (p) => Array.isArray(p.outcomes));
    return new JobJournal(file, parsed ?? { format: 1, outcomes: [] });
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
    await writeStateFile(this.file, next);
    this.state = next;
  }
}
