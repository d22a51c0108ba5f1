/**
 * `shadowplug publish <file> --key <s3 key>`: upload a file as a signed release (core/release),
 * its manifest signed with a local PEM key or an AWS KMS key.
 */
import { Option, type Command } from 'commander';
import { releaseOptions, reportFailure, type ReleaseFlags } from './common';

interface PublishFlags extends ReleaseFlags {
  key: string;
  bucket?: string;
  kmsKeyId?: string;
  region?: string;
  s3Endpoint?: string;
  json?: boolean;
}

export function registerPublish(program: Command): void {
  const signing = releaseOptions('EC P-256 private key (PEM) to sign with');
  program
    .command('publish <file>')
    .description('Upload a file as a signed release: devices with --trusted-key install it, and never an older one')
    .requiredOption('--key <s3 key>', 'the object key (what devices install as its base name)')
    .addOption(new Option('--bucket <name>', 'the bucket (the stack\'s BucketName output)').env('SHADOWPLUG_BUCKET'))
    .addOption(signing.signingKey)
    .option('--kms-key-id <id>', 'AWS KMS key (ECC_NIST_P256, SIGN_VERIFY) to sign with: id, ARN or alias/…')
    .addOption(signing.release)
    .addOption(signing.expires)
    .option('--region <region>', 'AWS region (default: the SDK\'s)')
    .option('--s3-endpoint <url>', 'an S3-compatible or local endpoint')
    .option('--json', 'print the signed release as JSON')
    .action(async (file: string, flags: PublishFlags) => {
      try {
        await publish(file, flags);
      } catch (err) {
        await reportFailure('publish', err, flags.json);
      }
    });
}

async function publish(file: string, flags: PublishFlags): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  const { createHash } = await import('node:crypto');
  const { S3Client } = await import('@aws-sdk/client-s3');
  const { s3ClientConfig } = await import('../../agent/s3-source');
  const { publishRelease, parseExpires } = await import('../../core/release/publish');
  const { ShadowplugError } = await import('../../core/errors');
  if (!flags.bucket) throw new ShadowplugError('--bucket (or SHADOWPLUG_BUCKET) is required', { code: 'PUBLISH_USAGE', retryable: false });
  if ((flags.signingKey === undefined) === (flags.kmsKeyId === undefined)) throw new ShadowplugError('give exactly one of --signing-key and --kms-key-id', { code: 'PUBLISH_USAGE', retryable: false });
  const expires = parseExpires(flags.expires, Date.now());
  const body = await readFile(file);
  const clientOptions = { ...(flags.region ? { region: flags.region } : {}), ...(flags.s3Endpoint ? { endpoint: flags.s3Endpoint } : {}) };
  const signer = flags.signingKey ? (await import('../../core/release/signature')).pemSigner(await readFile(flags.signingKey, 'utf8')) : await kmsSignerFor(flags.kmsKeyId!, clientOptions.region);
  const s3 = new S3Client(s3ClientConfig(clientOptions));
  try {
    const published = await publishRelease(s3, { bucket: flags.bucket, key: flags.key, body, signer, expires, ...(flags.release ? { release: flags.release } : {}) }, createHash('sha256').update(body).digest('hex'));
    if (flags.json) console.log(JSON.stringify(published));
    else console.log(`published s3://${flags.bucket}/${flags.key} release ${published.manifest.release} (version ${published.versionId ?? 'none'}, sha256 ${published.manifest.sha256}, expires ${published.manifest.expires}, key ${published.manifest.keyId})`);
  } finally {
    s3.destroy();
  }
}

/** The only place @aws-sdk/client-kms is loaded (a CLI dependency, not the agent's). */
async function kmsSignerFor(kmsKeyId: string, region: string | undefined) {
  const { KMSClient } = await import('@aws-sdk/client-kms');
  const { kmsSigner, kmsCalls } = await import('../../core/release/kms-signer');
  return kmsSigner(kmsCalls(new KMSClient(region ? { region } : {})), kmsKeyId);
}
