/**
 * Waiting for a device that another caller of this process holds (one connection per device):
 * the wait counts against the caller's request timeout and ends in a typed `queue` timeout, the
 * waiter leaves the queue cleanly, and it never opens a connection.
 */
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startFaultPlug, type FaultPlug } from '../../helpers/fault-plug';
import { Plug } from '../../../core/tplink/plug';
import { plugAction } from '../../../core/tplink/operations';
import { deviceMutex } from '../../../core/tplink/device-mutex';
import { XorTransport, type SocketFactory } from '../../../core/tplink/xor-transport';
import { TplinkTimeoutError } from '../../../core/tplink/errors';

const WAIT_MS = 200;
/** "It does not hang" is the test's own timeout, not a stopwatch: far above every timeout configured here. */
const BOUNDED_MS = 10_000;

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

async function failed<T>(p: Promise<T>): Promise<{ err: unknown }> {
  try {
    await p;
  } catch (err) {
    return { err };
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

    const { err } = await failed(other.status());
    expect(err).toBeInstanceOf(TplinkTimeoutError);
    expect(err).toMatchObject({ phase: 'queue', timeoutMs: WAIT_MS, retryable: true, host: '127.0.0.1', port: p.port });
    expect((err as Error).message).toMatch(
      new RegExp(`^127\\.0\\.0\\.1:${p.port}: waited ${WAIT_MS} ms for another operation on the same device`),
    );
    expect(sockets.count()).toBe(0);
    expect(p.connections).toBe(1);
    expect(deviceMutex.waiting(p.address)).toBe(0); // it left the queue

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
    const { err } = await failed(plugAction(p.address, 'toggle', { requestTimeoutMs: WAIT_MS }));
    expect(err).toMatchObject({ name: 'TplinkTimeoutError', phase: 'queue', timeoutMs: WAIT_MS });
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
    expect(deviceMutex.waiting(p.address)).toBe(2);
    release();
    await done;
    await Promise.all([waiting, late]);
    expect(order).toEqual(['patient', 'third']);
    expect(quitterSockets.count()).toBe(0);
    expect(p.maxConcurrent).toBe(1);
  });

  it('counts the wait against the request timeout: granted after its budget, it fails without connecting', async () => {
    const p = await startFaultPlug({ mode: 'ok' });
    plug = p;
    const { release, done } = await holdDevice(p);
    // Only Date is faked: the deadline arithmetic reads it, while sockets and timers stay real.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const waiter = new XorTransport(p, { mutex: deviceMutex, requestTimeoutMs: 60_000 });
      opened.push(waiter);
      const pending = waiter.send({ system: { get_sysinfo: {} } }).catch((e: unknown) => e);
      await vi.waitFor(() => expect(deviceMutex.waiting(p.address)).toBe(1), { timeout: BOUNDED_MS, interval: 5 });
      // The whole budget goes by while it waits; a fresh budget at the grant would let it go ahead.
      vi.setSystemTime(Date.now() + 60_000);
      release();
      await done;
      expect(await pending).toMatchObject({ name: 'TplinkTimeoutError', phase: 'queue', timeoutMs: 60_000 });
      expect(waiter.stats.connections).toBe(0);
      expect(p.connections).toBe(1); // the holder's only
      expect(p.requests).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('gives the exchange only what the wait left of the request timeout', async () => {
    const p = await startFaultPlug({ mode: 'silent' });
    plug = p;
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const holder = new XorTransport(p, { mutex: deviceMutex, requestTimeoutMs: 300 });
      const waiter = new XorTransport(p, { mutex: deviceMutex, requestTimeoutMs: 600_000 });
      opened.push(holder, waiter);
      const first = holder.send({ system: { get_sysinfo: {} } }).catch((e: unknown) => e);
      await vi.waitFor(() => expect(p.connections).toBe(1), { timeout: BOUNDED_MS, interval: 5 });
      const second = waiter.send({ system: { get_sysinfo: {} } }).catch((e: unknown) => e);
      await vi.waitFor(() => expect(deviceMutex.waiting(p.address)).toBe(1), { timeout: BOUNDED_MS, interval: 5 });
      // All but 200 ms of the waiter's budget passes while it waits: a fresh 600 s would outlive the test.
      vi.setSystemTime(Date.now() + 600_000 - 200);
      expect(await first).toMatchObject({ phase: 'request', timeoutMs: 300 });
      expect(await second).toMatchObject({ phase: 'request', timeoutMs: 600_000 });
      expect(p.connections).toBe(2); // it did get the device and asked, with the time that was left
      expect(p.maxConcurrent).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  }, BOUNDED_MS);

  it('fails a caller waiting for the device at once when its transport is closed', async () => {
    const p = await startFaultPlug({ mode: 'ok' });
    plug = p;
    const { release, done } = await holdDevice(p);
    const waiter = new XorTransport(p, { mutex: deviceMutex, requestTimeoutMs: 60_000 });
    const pending = waiter.send({ system: { get_sysinfo: {} } }).catch((e: unknown) => e);
    await vi.waitFor(() => expect(deviceMutex.waiting(p.address)).toBe(1), { timeout: BOUNDED_MS, interval: 5 });
    await waiter.close();
    const err = await pending;
    expect(err).toMatchObject({ code: 'TPLINK_CONNECTION_RESET' });
    expect((err as Error).message).toMatch(/transport is closed/);
    expect(deviceMutex.waiting(p.address)).toBe(0);
    release();
    await done;
    expect(waiter.stats.connections).toBe(0);
  });
});

describe('closing a transport during a connect', () => {
  it('fails the request at once and never connects behind the next holder', async () => {
    const p = await startFaultPlug({ mode: 'ok' });
    plug = p;
    // A connection that takes 150 ms to start, like a slow network; it says when it was asked and when it decided.
    let asked!: () => void;
    const connecting = new Promise<void>((resolve) => (asked = resolve));
    let decided!: (connected: boolean) => void;
    const decision = new Promise<boolean>((resolve) => (decided = resolve));
    const slow: SocketFactory = (o) => {
      const socket = new net.Socket();
      asked();
      setTimeout(() => {
        decided(!socket.destroyed);
        if (!socket.destroyed) socket.connect(o.port, o.host);
      }, 150);
      return socket;
    };
    const a = new XorTransport(p, { mutex: deviceMutex, socketFactory: slow, requestTimeoutMs: 2000 });
    const request = a.send({ system: { get_sysinfo: {} } }).catch((e: unknown) => e);
    await connecting;
    await a.close();
    const err = await request;
    expect(err).toMatchObject({ code: 'TPLINK_CONNECTION_RESET' });
    expect((err as Error).message).toMatch(/transport is closed/);
    // The next caller gets the device; the closed transport never shows up next to it.
    const b = new Plug(p);
    opened.push(b);
    await b.status();
    expect(await decision).toBe(false); // the delayed connect found its socket destroyed and did not dial
    expect(p.connections).toBe(1);
    expect(p.maxConcurrent).toBe(1);
  });
});
