/**
 * AWS Secrets Manager for tests: moto_server (written by others; pinned in requirements/s3-peer.txt)
 * on 127.0.0.1 with IAM enforced, so an access key that may not read a secret really gets
 * AccessDeniedException. Two IAM users: `function` (may read secrets) and `outsider` (may only
 * describe them); setup runs as `admin`. Requests reach moto through a counting proxy, so a test
 * sees how many GetSecretValue calls a handler made over real HTTP.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { enforceIam, motoUser as user, type AccessKey } from './moto-iam';
import { startMotoServer } from './s3-peers';

export type { AccessKey };

export interface MotoSecrets {
  /** The counting proxy in front of moto: give it to clients as their endpoint. */
  endpoint: string;
  region: string;
  keys: { function: AccessKey; outsider: AccessKey };
  /** Creates a secret (as admin); returns its ARN. */
  create(name: string, value: string): Promise<string>;
  /** A new current version of a secret (as admin). */
  put(name: string, value: string): Promise<void>;
  /** GetSecretValue requests seen so far. */
  getSecretValueCalls(): number;
  close(): Promise<void>;
}

const REGION = 'us-east-1';

function countingProxy(target: string, seen: string[]): Promise<Server> {
  const { hostname, port } = new URL(target);
  const server = createServer((req, res) => {
    seen.push(String(req.headers['x-amz-target'] ?? ''));
    const upstream = request({ hostname, port, method: req.method, path: req.url, headers: req.headers }, (reply) => {
      res.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export async function startMotoSecrets(): Promise<MotoSecrets> {
  const moto = await startMotoServer();
  const seen: string[] = [];
  let proxy: Server | undefined;
  let admin: SecretsManagerClient | undefined;
  try {
    const adminKey = await user(moto.endpoint, 'admin', ['*']);
    const keys = {
      function: await user(moto.endpoint, 'function', ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']),
      outsider: await user(moto.endpoint, 'outsider', ['secretsmanager:DescribeSecret']),
    };
    // From here on every request must be signed by one of those keys and allowed by its policy.
    await enforceIam(moto.endpoint);
    proxy = await countingProxy(moto.endpoint, seen);
    const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    admin = new SecretsManagerClient({ endpoint, region: REGION, credentials: adminKey });
    const client = admin;
    const server = proxy;
    return {
      endpoint,
      region: REGION,
      keys,
      async create(name, value) {
        return (await client.send(new CreateSecretCommand({ Name: name, SecretString: value }))).ARN ?? '';
      },
      async put(name, value) {
        await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
      },
      getSecretValueCalls: () => seen.filter((t) => t === 'secretsmanager.GetSecretValue').length,
      async close() {
        client.destroy();
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
        await moto.close();
      },
    };
  } catch (err) {
    admin?.destroy();
    proxy?.close();
    await moto.close();
    throw err;
  }
}
