import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultPlug, type FaultPlug } from '../../helpers/fault-plug';
import { Plug } from '../../../core/tplink/plug';
import { XorTcpTransport } from '../../../core/tplink/xor-tcp-transport';

const PLUG_MODULE = fileURLToPath(new URL('../../../core/tplink/plug.ts', import.meta.url));

let plug: FaultPlug | undefined;
afterEach(async () => {
  await plug?.close();
  plug = undefined;
});

describe('connection lifecycle', () => {
  it('closes an idle connection after the idle timeout and frees the device', async () => {
    plug = await startFaultPlug({ mode: 'ok' });
    const t = new XorTcpTransport(plug, { idleTimeoutMs: 50 });
    await new Plug(plug, { transport: t }).status();
    const started = performance.now();
    await plug.allClosed();
    expect(performance.now() - started).toBeLessThan(1500);
    await t.close();
  });

  it('does not keep a process alive with an idle kept connection', async () => {
    plug = await startFaultPlug({ mode: 'ok' });
    // A script that queries and forgets to close: it must still exit, at once.
    const script = `
      const { Plug } = await import(${JSON.stringify(PLUG_MODULE)});
      const s = await new Plug({ host: '127.0.0.1', port: ${plug.port} }).status();
      console.log(s.relayState);
    `;
    const started = performance.now();
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        { timeout: 20_000 },
        (_err, stdout) => resolve({ code: child.exitCode, stdout }),
      );
    });
    expect(result.stdout.trim()).toBe('0');
    expect(result.code).toBe(0);
    // Far below the 10 s idle timeout: the process did not wait for it.
    expect(performance.now() - started).toBeLessThan(8000);
  });
});
