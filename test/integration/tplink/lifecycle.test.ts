import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultPlug, type FaultPlug } from '../../helpers/fault-plug';
import { Plug } from '../../../core/tplink/plug';
import { deviceMutex } from '../../../core/tplink/device-mutex';
import { XorTransport } from '../../../core/tplink/xor-transport';

const PLUG_MODULE = fileURLToPath(new URL('../../../core/tplink/plug.ts', import.meta.url));
const TRANSPORT_MODULE = fileURLToPath(new URL('../../../core/tplink/xor-transport.ts', import.meta.url));
const MUTEX_MODULE = fileURLToPath(new URL('../../../core/tplink/device-mutex.ts', import.meta.url));

let plug: FaultPlug | undefined;
afterEach(async () => {
  await plug?.close();
  plug = undefined;
});

describe('connection lifecycle', () => {
  it('closes an idle connection after the idle timeout and frees the device', async () => {
    plug = await startFaultPlug({ mode: 'ok' });
    const t = new XorTransport(plug, { mutex: deviceMutex, idleTimeoutMs: 50 });
    await new Plug(plug, { transport: t }).status();
    // Nothing else closes it before t.close() below: the idle timer must (the test's timeout bounds the wait).
    await plug.allClosed();
    expect(plug.connections).toBe(1);
    // Freed: another transport gets the device while the first is still open (else a queue timeout).
    const other = new XorTransport(plug, { mutex: deviceMutex, requestTimeoutMs: 5_000 });
    await new Plug(plug, { transport: other }).status();
    expect(plug.connections).toBe(2);
    await other.close();
    await t.close();
  }, 10_000);

  it('does not keep a process alive with an idle kept connection', async () => {
    plug = await startFaultPlug({ mode: 'ok' });
    // A script that queries and forgets to close, with an idle timeout far longer than the test may run:
    // it exits only if the kept connection does not hold the event loop.
    const script = `
      const { Plug } = await import(${JSON.stringify(PLUG_MODULE)});
      const { XorTransport } = await import(${JSON.stringify(TRANSPORT_MODULE)});
      const { deviceMutex } = await import(${JSON.stringify(MUTEX_MODULE)});
      const endpoint = { host: '127.0.0.1', port: ${plug.port} };
      const transport = new XorTransport(endpoint, { mutex: deviceMutex, idleTimeoutMs: 3_600_000 });
      const s = await new Plug(endpoint, { transport }).status();
      console.log(s.relayState);
    `;
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        { timeout: 25_000 },
        (_err, stdout) => resolve({ code: child.exitCode, signal: child.signalCode, stdout }),
      );
    });
    expect(result.stdout.trim()).toBe('0');
    expect(result).toMatchObject({ code: 0, signal: null }); // exited by itself, not killed at the bound
    expect(plug.connections).toBe(1);
  });
});
