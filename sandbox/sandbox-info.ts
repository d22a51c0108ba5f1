/**
 * What a running sandbox tells the world (docs/sandbox.md lists its fields): the `--json` object and
 * `<dir>/sandbox.json`, by which `sandbox upload` and others find it; removed when it stops.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sandboxAlreadyRunning, SandboxNotRunningError } from './errors';
import { writeFileAtomicSync } from './write-atomic';

export interface SandboxThingInfo {
  name: string;
  /** Device certificate and key (PEM paths). */
  cert: string;
  key: string;
  /** Where this thing's agent installs files. */
  dest: string;
}

export interface SandboxInfo {
  /** Absolute. */
  dir: string;
  pid: number;
  mqtt: { host: string; port: number };
  /** IoT data-plane HTTPS endpoint URL (for `@aws-sdk/client-iot-data-plane`'s `endpoint`). */
  dataPlane: string;
  /** `endpoint` as the agent's `--credential-endpoint` takes it: host:port + path. */
  credentials: { endpoint: string; roleAlias: string };
  s3: { endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string };
  /** The CA certificate (PEM path) of the servers and every device. */
  ca: string;
  /** The publisher's private key (PEM path, 0600): `sandbox upload` and the dashboard sign releases with it. */
  signingKey: string;
  /** Public keys (PEM paths) the sandbox's agents trust: they install only releases signed by one of them. */
  trustedKeys: string[];
  things: SandboxThingInfo[];
  agents: 'in-process' | 'none';
  /** A button identity: may publish on the button topic and nothing else. */
  button: { clientId: string; serial: string; cert: string; key: string };
  plug: { host: string; port: number; simulated: boolean; model?: string };
  /** Every plug the button switches, how, and (relay) the shadow it is switched through. */
  plugs?: {
    id: string;
    host: string;
    port: number;
    thing: string | null;
    shadowName: string | null;
    mode: 'relay' | 'direct';
    /** The simulated kind (`hs100`, `p110-klap`, …), or `real`. */
    kind?: string;
    /** Simulated: what it speaks. */
    protocol?: 'xor' | 'klap' | 'aes';
    family?: 'iot' | 'smart';
    /** One outlet of a strip. */
    outlet?: number | string;
    model?: string;
  }[];
  buttonTopic: string;
  /** The TP-Link account the plugs, agents and button use; never its password (it may be the owner's real one). */
  tplinkUsername?: string;
  dashboard?: string;
  /** Roll-out mode: agents run with `--jobs`. */
  rollout?: true;
}

export function sandboxInfoPath(dir: string): string {
  return join(resolve(dir), 'sandbox.json');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else; still alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running sandbox's info for `dir`; a clear error when none runs there. */
export function readSandboxInfo(dir: string): SandboxInfo {
  const path = sandboxInfoPath(dir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new SandboxNotRunningError(dir, `${path} does not exist`);
    throw err;
  }
  let info: SandboxInfo;
  try {
    info = JSON.parse(text) as SandboxInfo;
  } catch (err) {
    throw new SandboxNotRunningError(dir, `${path} is not valid JSON (${(err as Error).message})`);
  }
  if (typeof info.pid !== 'number' || !isAlive(info.pid)) {
    throw new SandboxNotRunningError(dir, `${path} was left by process ${info.pid}, which is no longer running`);
  }
  return info;
}

/** Directories of the sandboxes running in this process (they may not write sandbox.json). */
const claimed = new Set<string>();

/**
 * Claims `dir` for a new sandbox, or refuses when a sandbox still runs there: in this process,
 * or in another one that left a live `sandbox.json`. Returns the function that releases it.
 */
export function claimSandboxDir(dir: string): () => void {
  const key = resolve(dir);
  if (claimed.has(key)) throw sandboxAlreadyRunning(dir, process.pid);
  try {
    const info = readSandboxInfo(dir);
    // Our own pid without a claim: left by an earlier sandbox of this process, not running.
    if (info.pid !== process.pid) throw sandboxAlreadyRunning(dir, info.pid);
  } catch (err) {
    if (!(err instanceof SandboxNotRunningError)) throw err;
  }
  claimed.add(key);
  return () => claimed.delete(key);
}

export function writeSandboxInfo(dir: string, info: SandboxInfo): void {
  const path = sandboxInfoPath(dir);
  writeFileAtomicSync(path, JSON.stringify(info, null, 2) + '\n', 0o600);
}

/** Removes `sandbox.json`, but only if it is ours (a newer sandbox may own the directory). */
export function removeSandboxInfo(dir: string, pid = process.pid): void {
  const path = sandboxInfoPath(dir);
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as Partial<SandboxInfo>;
    if (info.pid !== pid) return;
  } catch {
    return;
  }
  rmSync(path, { force: true });
}

/** The sandbox button's MQTT/TLS identity, as `sandbox click`, the dashboard, tests and benches connect with it. */
export function buttonIdentity(info: SandboxInfo): { host: string; port: number; clientId: string; cert: Buffer; key: Buffer; ca: Buffer } {
  return {
    host: info.mqtt.host,
    port: info.mqtt.port,
    clientId: info.button.clientId,
    cert: readFileSync(info.button.cert),
    key: readFileSync(info.button.key),
    ca: readFileSync(info.ca),
  };
}
