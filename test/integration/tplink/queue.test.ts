/**
 * Waiting for a device that another caller of this process holds (one connection per device):
 * the wait counts against the caller's request timeout and ends in a typed `queue` timeout, the
 * waiter leaves the queue cleanly, and it never opens a connection.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultPlug, type FaultPlug } from '../../helpers/fault-plug';
import { Plug } from '../../../core/tplink/plug';
import { plugAction } from '../../../core/tplink/operations';
import { deviceLocks } from '../../../core/tplink/device-lock';
import { XorTcpTransport, type SocketFactory } from '../../../core/tplink/xor-tcp-transport';
import { TplinkConnectionResetError, TplinkTimeoutError } from '../../../core/tplink/errors';

const WAIT_MS = 200;
/** Generous slack for a loaded 2-core machine; the point is "bounded", not "fast". */
const SLACK_MS = 1500;

let plug: FaultPlug | undefined;
const opened: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  for (const o of opened.splice(0)) await o.close();
  await plug?.close();
  plug = undefined;
});

/** A socket factory that counts the connections it opens. */
function counting(): { factory: SocketFactory; count: () => number } {
  let n = 0;
  return {
    factory: (o) => {
      n++;
      return net.createConnection(o);
    },
    count: () => n,
  };
}

/** Opens a session on `p` that holds the device until `release()` is called. */
async function holdDevice(p: FaultPlug): Promise<{ holder: Plug; release: () => void; done: Promise<void> }> {
  const holder = new Plug(p);
  opened.push(holder);
  let release!: () => void;
  const stuck = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const done = holder.session(async () => {
    await holder.status();
    entered();
    await stuck; // user code that takes its time (or never ends)
  });
  await inside;
  return { holder, release, done };
}

async function timed<T>(p: Promise<T>): Promise<{ err: unknown; ms: number }> {
  const started = performance.now();
  try {
    await p;
  } catch (err) {
    return { err, ms: performance.now() - started };
  }
  throw new Error('expected a failure');
}

describe('waiting for a device held by another caller', () => {
  it('fails with a typed queue timeout within the request timeout, without connecting', async () => {
    const p = await startFaultPlug({ mode: 'ok' });
    plug = p;
    const { release, done } = await holdDevice(p);
    const sockets = counting();
    const other = new Plug(p, { requestTimeoutMs: WAIT_MS, socketFactory: sockets.factory });
    opened.push(other);

    const { err, ms } = await timed(other.status());
    expect(err).toBeInstanceOf(TplinkTimeoutError);
    expect(err).toMatchObject({ phase: 'queue', timeoutMs: WAIT_MS, retryable: true, host: '127.0.0.1', port: p.port });
    expect((err as Error).message).toMatch(
      new RegExp(`^127\\.0\\.0\\.1:${p.port}: waited ${WAIT_MS} ms for another operation on the same device`),
    );
    expect(ms).toBeGreaterThanOrEqual(WAIT_MS - 5);
    expect(ms).toBeLessThan(WAIT_MS + SLACK_MS);
    expect(sockets.count()).toBe(0);
    expect(p.connections).toBe(1);
    expect(deviceLocks.waiting(p.address)).toBe(0); // it left the queue

    // The holder keeps going, and the device still works for the next caller (the same one, even).
    release();
    await done;
    expect(await other.status()).toMatchObject({ relayState: 0 });
    expect(sockets.count()).toBe(1);
    expect(p.maxConcurrent).toBe(1);
  });

  it('bounds a session (plugAction) waiting for the device the same way', async () => {
    const p = await startFaultPlug({ mode: 'ok' });
    plug = p;
    const { release, done } = await holdDevice(p);
    const { err, ms } = await timed(plugAction(p.address, 'toggle', { requestTimeoutMs: WAIT_MS }));
    expect(err).toMatchObject({ name: 'TplinkTimeoutError', phase: 'queue', timeoutMs: WAIT_MS });
    expect(ms).toBeLessThan(WAIT_MS + SLACK_MS);
    expect(p.requests).toHaveLength(1); // only the holder's query: the toggle sent nothing
    release();
    await done;
    const result = await plugAction(p.address, 'toggle', { requestTimeoutMs: 2000 });
    expect(result).toMatchObject({ changed: true, after: { relayState: 1 } });
    expect(p.maxConcurrent).toBe(1);
  });

  it('keeps the queue order for the others when one waiter gives up', async () => {
    const p = await startFaultPlug({ mode: 'ok' });
    plug = p;
    const { release, done } = await holdDevice(p);
    const quitterSockets = counting();
    const quitter = new Plug(p, { requestTimeoutMs: WAIT_MS, socketFactory: quitterSockets.factory });
    const patient = new Plug(p, { requestTimeoutMs: 5000 });
    const third = new Plug(p, { requestTimeoutMs: 5000 });
    opened.push(quitter, patient, third);
    const order: string[] = [];
    const quitting = quitter.status().catch((e: unknown) => e);
    const waiting = patient.status().then((s) => (order.push('patient'), s));
    const late = third.status().then((s) => (order.push('third'), s));
    expect(await quitting).toMatchObject({ phase: 'queue' });
    expect(deviceLocks.waiting(p.address)).toBe(2);
    release();
    await done;
    await Promise.all([waiting, late]);
    expect(order).toEqual(['patient', 'third']);
    expect(quitterSockets.count()).toBe(0);
    expect(p.maxConcurrent).toBe(1);
  });

  it('counts the wait against the request timeout: wait and exchange together stay within it', async () => {
    const p = await startFaultPlug({ mode: 'silent' });
    plug = p;
    const holder = new XorTcpTransport(p, { requestTimeoutMs: 600 });
    const waiter = new XorTcpTransport(p, { requestTimeoutMs: 700 });
    opened.push(holder, waiter);
    const first = holder.send({ system: { get_sysinfo: {} } }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 10));
    const started = performance.now();
    const second = waiter.send({ system: { get_sysinfo: {} } }).catch((e: unknown) => e);
    expect(await first).toMatchObject({ phase: 'request', timeoutMs: 600 });
    // The waiter got the device after ~590 ms and had only the ~110 ms left of its 700 ms
    // (a fresh 700 ms after the wait would end at 1290 ms or later).
    expect(await second).toMatchObject({ phase: 'request', timeoutMs: 700 });
    const ms = performance.now() - started;
    expect(ms).toBeGreaterThanOrEqual(700 - 5);
    expect(ms).toBeLessThan(1250);
    expect(p.maxConcurrent).toBe(1);
  });

  it('fails a caller waiting for the device at once when its transport is closed', async () => {
    const p = await startFaultPlug({ mode: 'ok' });
    plug = p;
    const { release, done } = await holdDevice(p);
    const waiter = new XorTcpTransport(p, { requestTimeoutMs: 60_000 });
    const pending = waiter.send({ system: { get_sysinfo: {} } }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    expect(deviceLocks.waiting(p.address)).toBe(1);
    await waiter.close();
    const err = await pending;
    expect(err).toBeInstanceOf(TplinkConnectionResetError);
    expect((err as Error).message).toMatch(/transport is closed/);
    expect(deviceLocks.waiting(p.address)).toBe(0);
    release();
    await done;
    expect(waiter.stats.connections).toBe(0);
  });
});

describe('closing a transport during a connect', () => {
  it('fails the request at once and never connects behind the next holder', async () => {
    const p = await startFaultPlug({ mode: 'ok' });
    plug = p;
    // A connection that takes 150 ms to start, like a slow network.
    const slow: SocketFactory = (o) => {
      const socket = new net.Socket();
      setTimeout(() => {
        if (!socket.destroyed) socket.connect(o.port, o.host);
      }, 150);
      return socket;
    };
    const a = new XorTcpTransport(p, { socketFactory: slow, requestTimeoutMs: 2000 });
    const request = a.send({ system: { get_sysinfo: {} } }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    await a.close();
    const err = await request;
    expect(err).toBeInstanceOf(TplinkConnectionResetError);
    expect((err as Error).message).toMatch(/transport is closed/);
    // The next caller gets the device; the closed transport never shows up next to it.
    const b = new Plug(p);
    opened.push(b);
    await b.status();
    await new Promise((r) => setTimeout(r, 250));
    expect(p.connections).toBe(1);
    expect(p.maxConcurrent).toBe(1);
  });
});
