/**
 * The TP-Link Device Protocol probe (UDP 20002), pure: a 16-byte header whose CRC32 of the whole
 * datagram overwrites a placeholder, then JSON; the answer names the device and how to reach it.
 */
import { crc32 } from 'node:zlib';
import { isObject } from '../util/guards';
import { tpapAdvert, type TpapAdvert } from './tpap';

export const TDP_PORT = 20002;
const HEADER_LENGTH = 16;
const CRC_PLACEHOLDER = 0x5a6b7c8d;

/** A datagram with the TDP header around `payload` (probe or answer). */
export function tdpDatagram(payload: Buffer, serial: number, op = 1): Buffer {
  const header = Buffer.alloc(HEADER_LENGTH); // zeros: message type (byte 1), byte 7
  header.writeUInt8(2, 0); // version
  header.writeUInt16BE(op, 2);
  header.writeUInt16BE(payload.length, 4);
  header.writeUInt8(17, 6); // flags
  header.writeUInt32BE(serial >>> 0, 8);
  header.writeUInt32BE(CRC_PLACEHOLDER, 12);
  const datagram = Buffer.concat([header, payload]);
  datagram.writeUInt32BE(crc32(datagram) >>> 0, 12);
  return datagram;
}

/** The probe: our public key, which devices use to encrypt extra details (which we do not need). */
export function tdpProbe(publicPem: string, serial: number): Buffer {
  return tdpDatagram(Buffer.from(JSON.stringify({ params: { rsa_key: publicPem } }), 'utf8'), serial);
}

/** Whether a datagram's CRC is right (the placeholder put back before computing). */
export function tdpCrcValid(datagram: Buffer): boolean {
  if (datagram.length < HEADER_LENGTH) return false;
  const copy = Buffer.from(datagram);
  const crc = copy.readUInt32BE(12);
  copy.writeUInt32BE(CRC_PLACEHOLDER, 12);
  return (crc32(copy) >>> 0) === crc;
}

export interface TdpDevice {
  deviceType: string;
  model: string;
  deviceId: string;
  mac: string;
  /** `klap` or `aes`; `tpap` for a device that wants TPAP (not spoken here: see tpap.ts). */
  transport: 'klap' | 'aes' | 'tpap';
  /** What it advertises of TPAP, when it does (even a KLAP device may, without preferring it). */
  tpap?: TpapAdvert;
  family: 'iot' | 'smart';
  httpPort: number;
  /** `lv` (or `login_version`): the KLAP hash version for IOT devices, the AES login version for SMART. */
  loginVersion: number | undefined;
}

/** Parses an answer; undefined when it is not a TDP answer we understand. */
export function parseTdpAnswer(datagram: Buffer): TdpDevice | undefined {
  if (datagram.length <= HEADER_LENGTH) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(datagram.subarray(HEADER_LENGTH).toString('utf8'));
  } catch {
    return undefined;
  }
  const result = isObject(json) && isObject(json.result) ? json.result : undefined;
  const scheme = result && isObject(result.mgt_encrypt_schm) ? result.mgt_encrypt_schm : undefined;
  if (!result || !scheme) return undefined;
  const type = typeof scheme.encrypt_type === 'string' ? scheme.encrypt_type.toUpperCase() : '';
  const tpap = tpapAdvert(result);
  if (type !== 'KLAP' && type !== 'AES' && type !== 'TPAP') return undefined;
  const deviceType = typeof result.device_type === 'string' ? result.device_type : '';
  return {
    ...(tpap === undefined ? {} : { tpap }),
    deviceType,
    model: typeof result.device_model === 'string' ? result.device_model : '',
    deviceId: typeof result.device_id === 'string' ? result.device_id : '',
    mac: typeof result.mac === 'string' ? result.mac : '',
    transport: tpap?.preferred ? 'tpap' : type === 'KLAP' ? 'klap' : 'aes',
    family: deviceType.startsWith('IOT.') ? 'iot' : 'smart',
    httpPort: typeof scheme.http_port === 'number' ? scheme.http_port : 80,
    loginVersion: typeof scheme.lv === 'number' ? scheme.lv : typeof scheme.login_version === 'number' ? scheme.login_version : undefined,
  };
}
