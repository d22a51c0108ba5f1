import { describe, expect, it } from 'vitest';
import { S3ClientPerCredentials } from '../../../agent/s3-clients';
import type { AwsCredentials } from '../../../agent/s3-source';

/** Clients made through the config function, each with a request handler whose destroy is watched. */
function setup() {
  let current: AwsCredentials = { accessKeyId: 'A1', secretAccessKey: 's' };
  const made: { credentials: AwsCredentials; destroyed: boolean }[] = [];
  const clients = new S3ClientPerCredentials(
    async () => current,
    (credentials) => {
      const entry = { credentials, destroyed: false };
      made.push(entry);
      return { region: 'us-east-1', credentials, requestHandler: { handle: () => Promise.reject(new Error('no network')), destroy: () => void (entry.destroyed = true) } } as never;
    },
  );
  return { clients, made, renew: (id: string) => (current = { accessKeyId: id, secretAccessKey: 's' }) };
}

describe('S3ClientPerCredentials', () => {
  it('uses one client for every download with the same credentials', async () => {
    const { clients, made } = setup();
    (await clients.open()).close();
    (await clients.open()).close();
    expect(made).toHaveLength(1);
    expect(made[0]!.destroyed).toBe(false);
  });

  it('makes a new client for new credentials and destroys the old one once its last download closes', async () => {
    const { clients, made, renew } = setup();
    const running = await clients.open();
    renew('A2');
    const next = await clients.open();
    expect(made.map((m) => m.credentials.accessKeyId)).toEqual(['A1', 'A2']);
    expect(made[0]!.destroyed).toBe(false); // still downloading
    running.close();
    expect(made[0]!.destroyed).toBe(true);
    next.close();
    expect(made[1]!.destroyed).toBe(false);
  });

  it('destroys the current client on close, or after the download still using it', async () => {
    const { clients, made } = setup();
    const running = await clients.open();
    clients.close();
    expect(made[0]!.destroyed).toBe(false);
    running.close();
    expect(made[0]!.destroyed).toBe(true);
  });
});
