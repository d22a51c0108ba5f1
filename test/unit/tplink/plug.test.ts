import { describe, expect, it } from 'vitest';
import { Plug } from '../../../core/tplink/plug';
import type { Transport } from '../../../core/tplink/transport';
import { TplinkDeviceError } from '../../../core/tplink/errors';

/**
 * An in-memory transport: proves the protocol layer needs nothing but `send` (a KLAP transport
 * will plug in the same way) and records what the Plug asked for.
 */
function recordingTransport(replies: unknown[]): Transport & { sent: unknown[]; closed: boolean } {
  const endpoint = { host: '10.0.0.9', port: 9999 };
  const t = {
    endpoint,
    sent: [] as unknown[],
    closed: false,
    async send(request: object) {
      t.sent.push(request);
      if (replies.length === 0) throw new Error('no reply left');
      return replies.shift();
    },
    async hold<T>(fn: () => Promise<T>) {
      return fn();
    },
    async close() {
      t.closed = true;
    },
  };
  return t;
}

const strip = {
  system: {
    get_sysinfo: {
      alias: 'Strip',
      model: 'KP303(UK)',
      deviceId: 'ABC',
      children: [
        { id: 'ABC00', alias: 'one', state: 0 },
        { id: 'ABC01', alias: 'two', state: 1 },
        { id: 'ABC02', alias: 'three', state: 0 },
      ],
      err_code: 0,
    },
  },
};
const ok = { system: { set_relay_state: { err_code: 0 } } };

describe('Plug over any Transport', () => {
  it('reports the status of a strip with the endpoint it was given', async () => {
    const t = recordingTransport([strip]);
    const plug = new Plug({ host: '10.0.0.9' }, { transport: t });
    const status = await plug.status();
    expect(status).toMatchObject({ host: '10.0.0.9', port: 9999, model: 'KP303(UK)', alias: 'Strip' });
    expect(status.children?.map((c) => c.state)).toEqual([0, 1, 0]);
    expect(t.sent).toEqual([{ system: { get_sysinfo: {} } }]);
  });

  it('resolves a child suffix with one query, then reuses it', async () => {
    const t = recordingTransport([strip, ok, ok]);
    const plug = new Plug({ host: '10.0.0.9' }, { transport: t });
    await plug.setPower(true, { child: '02' });
    await plug.setPower(false, { child: 1 });
    expect(t.sent).toEqual([
      { system: { get_sysinfo: {} } },
      { context: { child_ids: ['ABC02'] }, system: { set_relay_state: { state: 1 } } },
      { context: { child_ids: ['ABC01'] }, system: { set_relay_state: { state: 0 } } },
    ]);
  });

  it('sends a full child id without a query', async () => {
    const t = recordingTransport([ok]);
    await new Plug({ host: '10.0.0.9' }, { transport: t }).setPower(true, { child: 'ABC01' });
    expect(t.sent).toHaveLength(1);
  });

  it('switches a whole device without context', async () => {
    const t = recordingTransport([ok]);
    await new Plug({ host: '10.0.0.9' }, { transport: t }).setPower(false);
    expect(t.sent).toEqual([{ system: { set_relay_state: { state: 0 } } }]);
  });

  it('raises the device error of a refused set', async () => {
    const t = recordingTransport([{ system: { set_relay_state: { err_code: -3, err_msg: 'invalid argument' } } }]);
    await expect(new Plug({ host: '10.0.0.9' }, { transport: t }).setPower(true)).rejects.toBeInstanceOf(TplinkDeviceError);
  });

  it('closes its transport', async () => {
    const t = recordingTransport([]);
    await new Plug({ host: '10.0.0.9' }, { transport: t }).close();
    expect(t.closed).toBe(true);
  });
});
