/**
 * Whether a failure says "this is not that kind of device" (detection moves on to the next kind),
 * kept apart from connect.ts so the button function's XOR path can ask without loading the
 * KLAP/AES transports.
 */
import { TplinkConnectionRefusedError, TplinkProtocolError, TplinkTimeoutError } from './errors';

/** Not this kind of device (nothing there, or something else answering): try the next kind. */
export function notThisKind(err: unknown): boolean {
  // A reset is not a sign: an XOR plug that drops a reply is still an XOR plug.
  if (err instanceof TplinkConnectionRefusedError) return true;
  if (err instanceof TplinkTimeoutError) return err.phase === 'connect';
  if (err instanceof TplinkProtocolError) return ['oversize', 'bad-frame', 'bad-json', 'http-status', 'unexpected-reply'].includes(err.reason);
  return false;
}
