import { connect, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { decrypt, encryptWithHeader } from 'tplink-smarthome-crypto';
import { startSimulatedPlug, type SimulatedPlug } from '../../sandbox/simulated-plug';

/** One framed request over a fresh TCP connection, decrypted reply back (the protocol, by hand). */
async function request(port: number, body: unknown): Promise<unknown> {
  const socket = connect(port, '127.0.0.1');
  try {
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.write(encryptWithHeader(JSON.stringify(body)));
    const reply: Buffer = await new Promise((resolve) => socket.once('data', resolve));
    return JSON.parse(decrypt(reply.subarray(4)).toString('utf8'));
  } finally {
    socket.destroy();
  }
}

describe('startSimulatedPlug', () => {
  let plug: SimulatedPlug | undefined;
  afterEach(async () => {
    await plug?.close();
    plug = undefined;
  });

  it('serves an HS100 on 127.0.0.1 whose relay follows set_relay_state, and reports each change', async () => {
    plug = await startSimulatedPlug();
    expect(plug.host).toBe('127.0.0.1');
    expect(plug.port).toBeGreaterThan(0);
    expect(plug.state()).toMatchObject({ relayState: 0 });
    const changes: unknown[] = [];
    plug.events.on('change', (s) => changes.push(s));
    await request(plug.port, { system: { set_relay_state: { state: 1 } } });
    expect(plug.state().relayState).toBe(1);
    const info = (await request(plug.port, { system: { get_sysinfo: {} } })) as { system: { get_sysinfo: { relay_state: number } } };
    expect(info.system.get_sysinfo.relay_state).toBe(1);
    expect(changes).toEqual([expect.objectContaining({ relayState: 1 })]);
  });

  it('serves an HS300 strip whose outlets switch one at a time', async () => {
    plug = await startSimulatedPlug({ strip: true });
    const before = plug.state().children!;
    expect(before).toHaveLength(6);
    await request(plug.port, { context: { child_ids: [before[2]!.id] }, system: { set_relay_state: { state: 1 } } });
    expect(plug.state().children!.map((c) => c.state)).toEqual([0, 0, 1, 0, 0, 0]);
  });

  it('closes promptly even while a client keeps its connection open, freeing the port', async () => {
    plug = await startSimulatedPlug();
    const port = plug.port;
    const idle = connect(port, '127.0.0.1');
    await new Promise((resolve) => idle.once('connect', resolve));
    await plug.close();
    plug = undefined;
    await new Promise((resolve) => idle.once('close', resolve));
    await expect(
      new Promise((resolve, reject) => connect(port, '127.0.0.1').once('connect', resolve).once('error', reject)),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('names the address when its port is taken, and leaves nothing bound', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const err = await startSimulatedPlug({ port }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'SANDBOX_PLUG_LISTEN', retryable: true });
      expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
