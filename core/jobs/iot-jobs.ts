/** Roll-out mode against AWS IoT: CreateJob for an upload, and an ended job's failed executions with the codes the devices reported. */
import {
  CreateJobCommand,
  DescribeJobExecutionCommand,
  ListJobExecutionsForJobCommand,
  ResourceAlreadyExistsException,
  type IoTClient,
  type JobExecutionStatus,
} from '@aws-sdk/client-iot';
import type { JobCreator } from './file-job';
import type { RolloutEnd } from './rollout-notice';

export function iotJobCreator(iot: IoTClient): JobCreator {
  return {
    async createJob(request) {
      try {
        await iot.send(
          new CreateJobCommand({
            jobId: request.jobId,
            targets: [...request.targets],
            document: request.document,
            targetSelection: 'SNAPSHOT',
            description: 'shadowplug file roll-out',
            ...request.settings,
          }),
        );
        return true;
      } catch (err) {
        if (err instanceof ResourceAlreadyExistsException) return false;
        throw err;
      }
    },
  };
}

const FAILURES: JobExecutionStatus[] = ['FAILED', 'REJECTED', 'TIMED_OUT'];

/** The failed executions of a job (at most `limit` described, each with its statusDetails). */
export async function failedExecutions(iot: IoTClient, jobId: string, limit = 20): Promise<RolloutEnd['failures']> {
  const out: RolloutEnd['failures'] = [];
  for (const status of FAILURES) {
    let nextToken: string | undefined;
    do {
      const page = await iot.send(new ListJobExecutionsForJobCommand({ jobId, status, maxResults: 100, ...(nextToken ? { nextToken } : {}) }));
      for (const e of page.executionSummaries ?? []) {
        const thingName = e.thingArn?.split('/').pop() ?? '?';
        if (out.length >= limit) {
          out.push({ thingName, status });
          continue;
        }
        const d = await iot.send(new DescribeJobExecutionCommand({ jobId, thingName }));
        const details = d.execution?.statusDetails?.detailsMap ?? {};
        out.push({ thingName, status, ...(details.code ? { code: details.code } : {}), ...(details.message ? { message: details.message } : {}) });
      }
      nextToken = page.nextToken;
    } while (nextToken);
  }
  return out;
}
