/**
 * IAM users on moto_server (tests only), made before IAM is enforced: each with an inline policy
 * allowing `actions` on `*`, and an access key. After `POST /moto-api/reset-auth` moto checks
 * every request's signature and policy, so a denied action really answers AccessDeniedException.
 */
export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

const REGION = 'us-east-1';

/** IAM's query API before IAM is enforced: moto routes on the credential scope and checks no signature yet. */
async function iam(endpoint: string, params: Record<string, string>): Promise<string> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=setup/20261130/${REGION}/iam/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams({ ...params, Version: '2010-05-08' }).toString(),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`IAM ${params.Action}: ${response.status} ${text}`);
  return text;
}

export async function motoUser(endpoint: string, name: string, actions: string[]): Promise<AccessKey> {
  await iam(endpoint, { Action: 'CreateUser', UserName: name });
  const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] };
  await iam(endpoint, { Action: 'PutUserPolicy', UserName: name, PolicyName: `${name}-policy`, PolicyDocument: JSON.stringify(policy) });
  const xml = await iam(endpoint, { Action: 'CreateAccessKey', UserName: name });
  const field = (tag: string) => new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(xml)?.[1] ?? '';
  return { accessKeyId: field('AccessKeyId'), secretAccessKey: field('SecretAccessKey') };
}

/** From here on moto enforces IAM: every request must be signed by a key made above and allowed by its policy. */
export async function enforceIam(endpoint: string): Promise<void> {
  const reset = await fetch(`${endpoint}/moto-api/reset-auth`, { method: 'POST', body: '0' });
  if (!reset.ok) throw new Error(`moto reset-auth: ${reset.status}`);
}
