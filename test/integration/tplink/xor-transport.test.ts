/**
 * The XOR transport unshared (a button click's) against real sockets on 127.0.0.1 (fault-plug.ts
 * speaks the protocol with an independent codec): one connection for the requests, closed by
 * close(), and typed errors and timeouts.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { XorTransport } from '../../../core/tplink/xor-transport';
import { getSysinfoRequest, setRelayStateRequest } from '../../../core/tplink/commands';
import { TplinkConnectionRefusedError, TplinkProtocolError, TplinkTimeoutError } from '../../../core/tplink/errors';
import { closedPort, startFaultPlug, type FaultMode, type FaultPlug } from '../../helpers/fault-plug';

const open: FaultPlug[] = [];
const transports: XorTransport[] = [];
afterEach(async () => {
  await Promise.allSettled(transports.splice(0).map((t) => t.close()));
  await Promise.allSettled(open.splice(0).map((p) => p.close()));
});

async function plug(mode: FaultMode): Promise<FaultPlug> {
  const p = await startFaultPlug({ mode });
  open.push(p);
  return p;
}

function transport(port: number, options: ConstructorParameters<typeof XorTransport>[1] = {}): XorTransport {
  const t = new XorTransport({ host: '127.0.0.1', port }, options);
  transports.push(t);
  return t;
}

describe('XorTransport', () => {
  it("sends a click's requests in sequence over one connection, and closes it at close()", async () => {
    const p = await plug('ok');
    const t = transport(p.port);
    const replies = await Promise.all([t.send(getSysinfoRequest()), t.send(setRelayStateRequest(true)), t.send(getSysinfoRequest())]);
    expect(replies[2]).toMatchObject({ system: { get_sysinfo: { relay_state: 1 } } });
    expect(p.requests).toHaveLength(3);
    expect(p.connections).toBe(1);
    await t.close();
    await p.allClosed();
  });

  it('opens a fresh connection when the device closed the last one after its reply', async () => {
    const p = await plug('close-after-reply');
    const t = transport(p.port);
    await t.send(getSysinfoRequest());
    await t.send(setRelayStateRequest(true));
    expect(p.relayState).toBe(1);
    expect(p.connections).toBe(2);
  });

  it('fails at once with TPLINK_CONNECTION_REFUSED naming host:port on a closed port', async () => {
    const port = await closedPort();
    // Timeouts far beyond the test's own: only the refusal itself can end the request in time.
    const err = await transport(port, { connectTimeoutMs: 60_000, requestTimeoutMs: 60_000 }).send(getSysinfoRequest()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TplinkConnectionRefusedError);
    expect(err).toMatchObject({ code: 'TPLINK_CONNECTION_REFUSED', host: '127.0.0.1', port, retryable: false });
    expect((err as Error).message).toContain(`127.0.0.1:${port}: connection refused`);
  }, 10_000);

  it('times out a plug that accepts but never answers at the request timeout', async () => {
    const p = await plug('silent');
    const err = await transport(p.port, { requestTimeoutMs: 200 }).send(getSysinfoRequest()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TplinkTimeoutError);
    expect(err).toMatchObject({ code: 'TPLINK_TIMEOUT', phase: 'request', timeoutMs: 200, host: '127.0.0.1', port: p.port });
    expect(p.requests).toHaveLength(1);
    await p.allClosed();
  });

  it('times out a connect that never completes at the connect timeout', async () => {
    // A socket that is never connected stands in for a device that does not answer the SYN.
    const t = transport(9, { connectTimeoutMs: 100, requestTimeoutMs: 5_000, socketFactory: () => new net.Socket() });
    const err = await t.send(getSysinfoRequest()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TplinkTimeoutError);
    expect(err).toMatchObject({ phase: 'connect', timeoutMs: 100, host: '127.0.0.1', port: 9 });
  });

  it.each([
    ['garbage', 'oversize'],
    ['invalid-json', 'bad-json'],
    ['oversize', 'oversize'],
  ] as const)('fails with TPLINK_PROTOCOL (%s → %s) on a bad reply', async (mode, reason) => {
    const p = await plug(mode);
    const err = await transport(p.port, { maxFrameLength: 4096 }).send(getSysinfoRequest()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TplinkProtocolError);
    expect(err).toMatchObject({ code: 'TPLINK_PROTOCOL', reason, host: '127.0.0.1', port: p.port });
    await p.allClosed();
  });

  it('refuses requests after close, without connecting again', async () => {
    const p = await plug('ok');
    const t = transport(p.port);
    await t.send(getSysinfoRequest());
    await t.close();
    await expect(t.send(getSysinfoRequest())).rejects.toMatchObject({ code: 'TPLINK_CONNECTION_RESET', message: expect.stringContaining('transport is closed') });
    expect(p.connections).toBe(1);
    await p.allClosed();
  });
});
