/** The one SNS message a roll-out sends when it ends: completed, or canceled by its abort rule (why, and which devices failed with which codes). Pure. */
export interface RolloutEnd {
  jobId: string;
  status: 'COMPLETED' | 'CANCELED';
  comment?: string;
  /** `inProgress`: executions still queued or running when the job ended (a canceled job lets them finish). */
  counts: { succeeded: number; failed: number; rejected: number; timedOut: number; canceled: number; inProgress?: number; targets: number };
  failures: { thingName: string; status: string; code?: string; message?: string }[];
}

/** Names at most this many failed devices (SNS messages stay readable; the rest are counted). */
const LISTED = 20;

export function rolloutNotice(end: RolloutEnd): { subject: string; message: string } {
  const c = end.counts;
  const running = c.inProgress ? `, ${c.inProgress} still in progress (they may finish)` : '';
  const tally = `${c.succeeded} succeeded, ${c.failed} failed, ${c.rejected} rejected, ${c.timedOut} timed out, ${c.canceled} canceled${running}, of ${c.targets} targets`;
  const lines = end.failures.slice(0, LISTED).map((f) => `  ${f.thingName}: ${f.status}${f.code ? ` ${f.code}` : ''}${f.message ? ` (${f.message})` : ''}`);
  if (end.failures.length > LISTED) lines.push(`  ... and ${end.failures.length - LISTED} more`);
  if (end.status === 'COMPLETED') {
    return { subject: `shadowplug roll-out ${end.jobId} completed`, message: [`Roll-out ${end.jobId} completed: ${tally}.`, ...(lines.length ? ['Failed devices:', ...lines] : [])].join('\n') };
  }
  const why = end.comment ?? 'canceled';
  return { subject: `shadowplug roll-out ${end.jobId} aborted`, message: [`Roll-out ${end.jobId} was stopped: ${why}.`, tally + '.', 'Failed devices:', ...lines].join('\n') };
}
