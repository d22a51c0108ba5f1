/**
 * TPAP (SPAKE2+ then AEAD, some 2025+ firmware) is not spoken here (no peer to prove it against), only
 * recognised, so the error names it instead of blaming the credentials. Discovery and an HTTP `POST /`
 * discover answer `tpap_preferred` and `tpap {tls, port, pake}`; such a device refuses KLAP handshake 1
 * with 403. One answering `tpap_preferred: false` still speaks KLAP. Pure.
 */
import { TplinkError, type TplinkEndpoint } from './errors';
import { isObject } from '../util/guards';

/** What a device advertises of TPAP. */
export interface TpapAdvert {
  preferred: boolean;
  port?: number;
  tls?: number;
  pake?: number[];
}

/** The HTTP discover request (path `/`). */
export const TPAP_DISCOVER_BODY = JSON.stringify({ method: 'login', params: { sub_method: 'discover' } });

/** Reads `tpap_preferred` and `tpap` from a discover answer's `result` (HTTP or UDP); undefined when neither is there. */
export function tpapAdvert(result: unknown): TpapAdvert | undefined {
  if (!isObject(result)) return undefined;
  const tpap = isObject(result.tpap) ? result.tpap : undefined;
  const scheme = isObject(result.mgt_encrypt_schm) ? result.mgt_encrypt_schm : {};
  const advertised = typeof scheme.encrypt_type === 'string' && scheme.encrypt_type.toUpperCase() === 'TPAP';
  if (tpap === undefined && result.tpap_preferred === undefined && !advertised) return undefined;
  const advert: TpapAdvert = { preferred: result.tpap_preferred === true || (advertised && result.tpap_preferred !== false) };
  if (typeof tpap?.port === 'number') advert.port = tpap.port;
  if (typeof tpap?.tls === 'number') advert.tls = tpap.tls;
  if (Array.isArray(tpap?.pake)) advert.pake = tpap.pake.filter((p): p is number => typeof p === 'number');
  return advert;
}

/** The same from an HTTP discover reply body; undefined when it is not one. */
export function parseTpapDiscoverReply(body: Buffer): TpapAdvert | undefined {
  try {
    const reply: unknown = JSON.parse(body.toString('utf8'));
    return isObject(reply) && reply.error_code === 0 ? tpapAdvert(reply.result) : undefined;
  } catch {
    return undefined;
  }
}

/** `TPAP (port 4433, tls 0, pake [2])`. */
export function describeTpap(advert: TpapAdvert): string {
  const parts = [
    ...(advert.port === undefined ? [] : [`port ${advert.port}`]),
    ...(advert.tls === undefined ? [] : [`tls ${advert.tls}`]),
    ...(advert.pake === undefined ? [] : [`pake [${advert.pake.join(', ')}]`]),
  ];
  return parts.length > 0 ? `TPAP (${parts.join(', ')})` : 'TPAP';
}

/** The device wants a transport we do not speak (TPAP). Not retryable: no client here can reach it. */
export function unsupportedTransport(endpoint: TplinkEndpoint, advertised: string): TplinkError {
  return new TplinkError(
    endpoint,
    `the device wants ${advertised}, a transport shadowplug does not speak yet (SPAKE2+ then AEAD; some 2025+ firmware, no proven open-source client)`,
    { code: 'TPLINK_UNSUPPORTED_TRANSPORT', retryable: false },
  );
}
