/**
 * What an agent reads and checks before any of its parts is made: its options, its identity
 * (certificate, key, CA), a writable destination and state directory, its trusted keys. A problem
 * here is an AgentConfigError naming the flag, found at start rather than after a download.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { silentLogger } from '../core/logger';
import { trustedKeys, type TrustedKey } from '../core/release/trust';
import { nodeFs, probeWritable, type AgentFs } from './agent-fs';
import { AgentConfigError } from './errors';
import { checkAgentOptions, type AgentOptions } from './options';
import { StateStore } from './state-store';

async function readPem(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new AgentConfigError(`cannot read ${what} ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * A read-only `--dest` or `--state-dir` found at start, not after a whole download that cannot be
 * recorded (and would be downloaded again on every start).
 */
async function refuseUnwritable(fs: AgentFs, dest: string, stateDir: string): Promise<void> {
  for (const [dir, flag, code] of [
    [dest, '--dest', 'DEST_NOT_WRITABLE'],
    [stateDir, '--state-dir', 'STATE_DIR_NOT_WRITABLE'],
  ] as const) {
    const err = await probeWritable(fs, dir);
    if (err) throw new AgentConfigError(`${flag} ${dir} is not writable: ${err.message}`, { code, cause: err });
  }
}

async function loadTrustedKeys(paths: readonly string[]): Promise<TrustedKey[]> {
  const pems = await Promise.all(paths.map((p) => readPem(p, 'trusted key')));
  try {
    return trustedKeys(pems.map((pem) => pem.toString('utf8')));
  } catch (err) {
    throw new AgentConfigError(`--trusted-key: ${(err as Error).message}`, { cause: err });
  }
}

export interface DeviceIdentity {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

/** Checked options, the device's identity, the destination and the state store: what every part needs. */
export async function prepareAgent(given: AgentOptions) {
  const options = checkAgentOptions(given);
  const logger = (options.logger ?? silentLogger).child({ thing: options.thingName });
  const [cert, key, ca] = await Promise.all([readPem(options.cert, 'certificate'), readPem(options.key, 'private key'), options.caFile ? readPem(options.caFile, 'CA file') : undefined]);
  const identity: DeviceIdentity = { cert, key, ...(ca ? { ca } : {}) };
  const dest = resolve(options.dest);
  await mkdir(dest, { recursive: true }).catch((err: unknown) => {
    throw new AgentConfigError(`cannot create destination directory ${dest}: ${(err as Error).message}`, { cause: err });
  });
  const fs = options.fs ?? nodeFs;
  const store = await StateStore.open(resolve(options.stateDir ?? join(dest, '.shadowplug-state')), fs);
  await refuseUnwritable(fs, dest, store.dir);
  const trusted = await loadTrustedKeys(options.trustedKey ?? []);
  if (trusted.length === 0) logger.warn('no --trusted-key: files are installed unsigned, so whoever can write to the bucket or the shadow chooses what this device installs, older versions included');
  else logger.info('installing signed releases only', { trustedKeys: trusted.map((t) => t.keyId) });
  return { options, logger, identity, dest, store, trusted, clock: options.clock ?? Date.now };
}
