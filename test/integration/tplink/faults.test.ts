import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closedPort, startFaultPlug, type FaultMode, type FaultPlug } from '../../helpers/fault-plug';
import { Plug } from '../../../core/tplink/plug';
import { plugAction } from '../../../core/tplink/operations';
import { deviceMutex } from '../../../core/tplink/device-mutex';
import { XorTransport } from '../../../core/tplink/xor-transport';
import {
  TplinkConnectionRefusedError,
  TplinkProtocolError,
  TplinkTimeoutError,
} from '../../../core/tplink/errors';

const REQUEST_TIMEOUT_MS = 400;
/** "It does not hang" is the test's own timeout, not a stopwatch: far above every timeout configured here. */
const BOUNDED_MS = 10_000;

let plug: FaultPlug | undefined;
const opened: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  for (const o of opened.splice(0)) await o.close();
  await plug?.close();
  plug = undefined;
});

async function faultPlug(mode: FaultMode, extra: { declaredLength?: number; replyDelayMs?: number } = {}) {
  plug = await startFaultPlug({ mode, ...extra });
  return plug;
}

function transportFor(p: { host: string; port: number }, maxFrameLength?: number) {
  const t = new XorTransport(p, { mutex: deviceMutex, connectTimeoutMs: REQUEST_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS, maxFrameLength });
  opened.push(t);
  return t;
}

/** Runs a status query and returns the error it fails with. */
async function failure(transport: XorTransport): Promise<{ err: unknown }> {
  const p = new Plug(transport.endpoint, { transport });
  try {
    await p.status();
  } catch (err) {
    return { err };
  }
  throw new Error('expected the request to fail');
}

describe('XOR/TCP client against a faulty plug', () => {
  it('reassembles a reply written one byte at a time', async () => {
    const p = await faultPlug('one-byte-writes');
    const status = await new Plug(p, { transport: transportFor(p) }).status();
    expect(status).toMatchObject({ model: 'HS100(EU)', alias: 'Fault plug', relayState: 0 });
  });

  it('rejects a declared length of 0xFFFFFFFF without buffering it, and hangs up', async () => {
    const p = await faultPlug('oversize');
    const t = transportFor(p);
    const { err } = await failure(t);
    expect(err).toBeInstanceOf(TplinkProtocolError);
    expect(err).toMatchObject({ reason: 'oversize', retryable: false, host: '127.0.0.1', port: p.port });
    expect((err as Error).message).toMatch(/declares 4294967295 bytes, above the limit of 1048576/);
    expect(t.stats.peakBufferedBytes).toBeLessThanOrEqual(4);
    await p.allClosed(); // the client closed the connection instead of draining the stream
  });

  it('never holds more than the limit when the declared length is just above it', async () => {
    const p = await faultPlug('oversize', { declaredLength: 4097 });
    const t = transportFor(p, 4096);
    const { err } = await failure(t);
    expect(err).toMatchObject({ reason: 'oversize' });
    expect(t.stats.peakBufferedBytes).toBeLessThanOrEqual(4096 + 4);
    await p.allClosed();
  });

  it('reports a truncated reply as a retryable reset, saying how much arrived', async () => {
    const p = await faultPlug('truncated');
    const { err } = await failure(transportFor(p));
    expect(err).toMatchObject({ code: 'TPLINK_CONNECTION_RESET' });
    expect((err as Error).message).toMatch(/connection closed after \d+ of \d+ reply bytes/);
    expect(err).toMatchObject({ retryable: true });
  });

  it('reports garbage as a protocol error', async () => {
    const p = await faultPlug('garbage');
    const { err } = await failure(transportFor(p));
    expect(err).toBeInstanceOf(TplinkProtocolError);
  });

  it('reports a valid frame with invalid JSON as bad-json', async () => {
    const p = await faultPlug('invalid-json');
    const { err } = await failure(transportFor(p));
    expect(err).toBeInstanceOf(TplinkProtocolError);
    expect(err).toMatchObject({ reason: 'bad-json', retryable: false });
  });

  it('times out on a plug that accepts and never answers, within the request timeout', async () => {
    const p = await faultPlug('silent');
    const { err } = await failure(transportFor(p));
    expect(err).toBeInstanceOf(TplinkTimeoutError);
    // The request timer (not a connect or reset path) ended it, at the configured timeout; the plug saw one connection.
    expect(err).toMatchObject({ phase: 'request', retryable: true, timeoutMs: REQUEST_TIMEOUT_MS, host: '127.0.0.1', port: p.port });
    expect(p.connections).toBe(1);
    await p.allClosed();
  }, BOUNDED_MS);

  it('reconnects transparently when the plug closes after each reply', async () => {
    const p = await faultPlug('close-after-reply');
    const result = await plugAction(p.address, 'toggle', { requestTimeoutMs: REQUEST_TIMEOUT_MS });
    expect(result.after.relayState).toBe(1);
    expect(p.relayState).toBe(1);
    expect(p.connections).toBe(2);
  });

  it('reconnects once when a kept connection turns out dead at the second request', async () => {
    const p = await faultPlug('reset-on-second-request');
    const result = await plugAction(p.address, 'toggle', { requestTimeoutMs: REQUEST_TIMEOUT_MS });
    expect(result).toMatchObject({ changed: true, before: { relayState: 0 }, after: { relayState: 1 } });
    expect(p.relayState).toBe(1);
    expect(p.connections).toBe(2);
    expect(p.requests).toHaveLength(3); // query, set (lost), set again
  });

  it('does not retry on a fresh connection that breaks', async () => {
    const p = await faultPlug('truncated');
    await expect(plugAction(p.address, 'status', { requestTimeoutMs: REQUEST_TIMEOUT_MS })).rejects.toMatchObject({ code: 'TPLINK_CONNECTION_RESET' });
    expect(p.connections).toBe(1);
  });

  it('reports connection refused with the KLAP hint, not retryable', async () => {
    const port = await closedPort();
    const { err } = await failure(transportFor({ host: '127.0.0.1', port }));
    expect(err).toBeInstanceOf(TplinkConnectionRefusedError);
    expect(err).toMatchObject({ retryable: false, host: '127.0.0.1', port });
    expect((err as Error).message).toMatch(new RegExp(`^127\\.0\\.0\\.1:${port}: connection refused.*KLAP.*port 80.*9999`));
  });

  it('times out a connection that never completes, within the connect timeout', async () => {
    // A socket that never connects stands in for a plug that is off the network (tests may not leave 127.0.0.1).
    const never = () => new net.Socket();
    const err = await new Plug({ host: '127.0.0.1', port: 9 }, { socketFactory: never, connectTimeoutMs: 150 })
      .status()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TplinkTimeoutError);
    expect(err).toMatchObject({ phase: 'connect', timeoutMs: 150, retryable: true });
    expect((err as Error).message).toBe('127.0.0.1:9: no connection within 150 ms (is the plug online and on this network?)');
  }, BOUNDED_MS);

  it('bounds the whole request, connection included, by the request timeout', async () => {
    const never = () => new net.Socket();
    const err = await new Plug({ host: '127.0.0.1', port: 9 }, { socketFactory: never, connectTimeoutMs: 5000, requestTimeoutMs: 100 })
      .status()
      .catch((e: unknown) => e);
    // Whichever timer fires first (connect, capped to the time left, or request), it is at 100 ms, not 5 s.
    expect(err).toBeInstanceOf(TplinkTimeoutError);
    expect((err as TplinkTimeoutError).timeoutMs).toBeLessThanOrEqual(100);
  });

  it('keeps one connection for a query and a set when the plug keeps it open', async () => {
    const p = await faultPlug('ok');
    await plugAction(p.address, 'toggle');
    expect(p.connections).toBe(1);
    expect(p.requests).toEqual([{ system: { get_sysinfo: {} } }, { system: { set_relay_state: { state: 1 } } }]);
  });

  describe('one connection per device', () => {
    it('never opens two connections at once for concurrent operations, and runs each toggle whole', async () => {
      const p = await faultPlug('ok', { replyDelayMs: 20 });
      const results = await Promise.all([
        plugAction(p.address, 'toggle'),
        plugAction(p.address, 'toggle'),
        plugAction(p.address, 'toggle'),
      ]);
      expect(p.maxConcurrent).toBe(1);
      expect(p.connections).toBe(3);
      // Each toggle saw the previous one's result: three toggles from off end on.
      expect(results.map((r) => r.after.relayState).sort()).toEqual([0, 1, 1]);
      expect(p.relayState).toBe(1);
    });

    it('serialises two Plug instances, the idle one yielding its kept connection', async () => {
      const p = await faultPlug('ok', { replyDelayMs: 10 });
      const a = new Plug(p);
      const b = new Plug(p);
      opened.push(a, b);
      await a.status(); // a now idles with an open connection
      await Promise.all([b.status(), a.setPower(true), b.setPower(false), a.status()]);
      expect(p.maxConcurrent).toBe(1);
    });

    it('serialises concurrent requests on one Plug', async () => {
      const p = await faultPlug('ok', { replyDelayMs: 5 });
      const a = new Plug(p);
      opened.push(a);
      const statuses = await Promise.all([a.status(), a.status(), a.status()]);
      expect(statuses).toHaveLength(3);
      expect(p.connections).toBe(1);
    });
  });
});
