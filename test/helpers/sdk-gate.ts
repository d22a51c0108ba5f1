/**
 * Forces an interleaving without sleeps: a middleware on one SDK client holds the response of the
 * first call of a named command until the test releases it. The call has been answered (the
 * service's state was read) when `reached` resolves; the caller sees the answer only after
 * `release()`.
 */
import type { S3Client } from '@aws-sdk/client-s3';

export interface Gate {
  /** Resolves once the held call has been answered by the service. */
  reached: Promise<void>;
  release(): void;
}

export function holdAfter(client: S3Client, commandName: string): Gate {
  let reach!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((r) => (reach = r));
  const released = new Promise<void>((r) => (release = r));
  let held = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      if (!held && context.commandName === commandName) {
        held = true;
        reach();
        await released;
      }
      return out;
    },
    { step: 'initialize', name: 'testGateAfterResponse' },
  );
  return { reached, release };
}
