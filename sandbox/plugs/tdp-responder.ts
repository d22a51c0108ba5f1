/**
 * Answers TDP probes (UDP 20002 on a real LAN) for simulated devices, bound to 127.0.0.1 only and
 * answering only the sender: nothing is broadcast. Probes with a bad CRC are ignored, as devices do.
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { tdpCrcValid, tdpDatagram } from '../../core/tplink/tdp';
import { KIND_PROTOCOLS, type SimulatedDevice } from './simulated-devices';
import { SimulatedIotDevice } from './iot-device';
import { tpapDiscoverFields } from './http-device-server';

export interface TdpResponder {
  port: number;
  close(): Promise<void>;
}

function answerFor(device: SimulatedDevice): Record<string, unknown> {
  const spec = KIND_PROTOCOLS[device.kind];
  const iot = device.model instanceof SimulatedIotDevice;
  const tpap = device.server.faults.tpap;
  return {
    error_code: 0,
    result: {
      device_type: iot ? 'IOT.SMARTPLUGSWITCH' : 'SMART.TAPOPLUG',
      device_model: device.model.model,
      device_id: device.model.deviceId,
      ip: device.host,
      mac: '00-00-5E-00-53-01',
      factory_default: false,
      ...(tpap ? tpapDiscoverFields(tpap) : {}),
      mgt_encrypt_schm: {
        is_support_https: false,
        encrypt_type: tpap ? 'TPAP' : spec.transport === 'klap' ? 'KLAP' : 'AES',
        http_port: device.port,
        // Left out when the firmware does not advertise it (the KP115 on 1.1.x).
        lv: spec.lv,
      },
    },
  };
}

/** `devices` all answer each probe (one datagram each), as several devices on a LAN would. */
export async function startTdpResponder(devices: SimulatedDevice[], port = 0): Promise<TdpResponder> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    if (!tdpCrcValid(msg)) return;
    for (const device of devices) {
      const payload = Buffer.from(JSON.stringify(answerFor(device)), 'utf8');
      socket.send(tdpDatagram(payload, msg.readUInt32BE(8), 2), rinfo.port, rinfo.address);
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => resolve());
  });
  return { port: (socket.address() as AddressInfo).port, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}
