import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { partialPaths } from '../../../agent/partial-store';
import { startAgentHarness, waitFor, type AgentHarness } from '../../helpers/agent-harness';
import { objectBytes, sha256 } from '../../helpers/agent-fixtures';

const CLI = join(import.meta.dirname, '../../../bin/shadowplug.mjs');
const SIZE = 8 * 1024 * 1024;

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function runCli(args: string[]): Running {
  const child = spawn(process.execPath, [CLI, 'agent', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** The `--json` lines saying the agent is idle. */
function idleLines(output: string): { shadowVersion: number }[] {
  return output
    .split('\n')
    .slice(0, -1) // the last piece may be a line still being written
    .filter((l) => l.startsWith('{') && l.includes('"message":"idle"'))
    .map((l) => JSON.parse(l) as { shadowVersion: number });
}

describe('shadowplug agent (the command, in its own process)', () => {
  let h: AgentHarness;
  const running: Running[] = [];

  beforeEach(async () => {
    h = await startAgentHarness();
  });
  afterEach(async () => {
    for (const r of running.splice(0)) {
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
      await r.exited;
    }
    await h.close();
  });

  /** The seed program's snake_case spellings, to prove they are accepted. */
  function seedStyleArgs(): string[] {
    const o = h.agentOptions();
    return [
      '--endpoint', o.endpoint, '--port', String(o.port), '--cert', o.cert, '--key', o.key,
      '--ca_file', o.caFile!, '--thing_name', o.thingName, '--credential_endpoint', o.credentialEndpoint!,
      '--s3_endpoint', o.s3Endpoint!, '--region', o.region!, '--dest', o.dest, '--state_dir', o.stateDir!, '--json',
    ];
  }

  function start(args = seedStyleArgs()): Running {
    const r = runCli(args);
    running.push(r);
    return r;
  }

  it('survives SIGKILL mid-download: the restart resumes from the partial file and never re-downloads once installed', async () => {
    const data = objectBytes(SIZE, 21);
    const desired = await h.put('image.bin', data);
    const final = join(h.dest, 'image.bin');
    const { part } = partialPaths(final, desired.hash);
    const held = h.proxy.holdAt(SIZE / 2);
    h.setDesired(desired);

    const first = start();
    await held;
    // Wait until what arrived is on disk, then kill without warning.
    await waitFor(() => existsSync(part) && statSync(part).size >= SIZE / 2 - 256 * 1024, 'partial file written', 20_000);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(existsSync(final)).toBe(false);
    const kept = statSync(part).size;
    expect(kept).toBeGreaterThan(0);

    h.proxy.cutAll();
    h.proxy.release();
    const before = h.proxy.downstreamBytes;
    const second = start();
    await waitFor(() => h.reported()?.hash === desired.hash, 'installed by the restarted agent', 20_000);
    expect(readFileSync(final).equals(data)).toBe(true);
    expect(h.reported()).toMatchObject({ url: desired.url, hash: desired.hash, path: final });
    expect(h.proxy.upstreamText).toContain(`bytes=${kept}-`);
    expect(h.proxy.downstreamBytes - before).toBeLessThan(SIZE - kept + 16 * 1024);
    expect(readdirSync(h.dest).filter((n) => n.startsWith('.shadowplug-'))).toEqual([]);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    // A third start finds the verified file and asks S3 for nothing: once it says it is idle
    // (everything it read handled, its report accepted), no download can still follow.
    const gets = h.s3Gets();
    const reported = h.reported();
    const third = start();
    await waitFor(() => idleLines(third.output()).length > 0, 'third agent idle', 20_000);
    expect(idleLines(third.output())[0]!.shadowVersion).toBe(h.document().version);
    expect(h.s3Gets()).toBe(gets);
    expect(h.reported()).toEqual(reported);
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  });

  it('--once with a config file installs and exits 0; a tampered object exits 1 with the error in the shadow', async () => {
    const o = h.agentOptions();
    const config = join(h.dir, 'agent.json');
    writeFileSync(
      config,
      JSON.stringify({
        endpoint: o.endpoint, port: o.port, cert: o.cert, key: o.key, 'ca-file': o.caFile, thing_name: o.thingName,
        credentialEndpoint: o.credentialEndpoint, s3Endpoint: o.s3Endpoint, region: o.region, dest: o.dest, stateDir: o.stateDir,
      }),
    );
    const good = await h.put('once.txt', 'once');
    h.setDesired(good);
    const ok = start(['--config', config, '--once', '--json']);
    expect(await ok.exited).toBe(0);
    expect(readFileSync(join(h.dest, 'once.txt'), 'utf8')).toBe('once');
    expect(h.reported()).toMatchObject({ hash: good.hash });
    // Nothing to do: it ends while its first report is still in flight.
    const again = start(['--config', config, '--once', '--json']);
    expect(await again.exited).toBe(0);

    await h.put('twice.txt', 'tampered');
    h.setDesired({ url: 's3://shadowplug/twice.txt', hash: sha256('original'), size: 8 }); // 'tampered' has the same length
    const bad = start(['--config', config, '--once']);
    expect(await bad.exited).toBe(1);
    expect(h.reported()).toMatchObject({ hash: good.hash, error: { code: 'HASH_MISMATCH', hash: sha256('original') } });
    expect(existsSync(join(h.dest, 'twice.txt'))).toBe(false);
    // The session ends cleanly: nothing is published on a client already ended.
    for (const r of [ok, again, bad]) expect(r.output()).not.toMatch(/mqtt error|write after end/);
  });

  it('exits 2 with a one-line message naming what is wrong in the configuration', async () => {
    const r = start(['--endpoint', '127.0.0.1', '--thing-name', 'x', '--cert', '/nonexistent.pem', '--key', '/k', '--dest', h.dest, '--max-size', '12 parsecs']);
    expect(await r.exited).toBe(2);
    expect(r.output()).toContain('--max-size: "12 parsecs" is not a size');
  });
});
