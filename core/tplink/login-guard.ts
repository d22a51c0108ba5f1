/**
 * What a device said about our logins, kept per device in the session cache. Tapo firmware blocks
 * logins (-40404, `sec_left`, about 30 min) after too many refused ones, and each attempt may extend
 * the block: once refused, one login per request; while blocked, nothing is sent. Pure.
 */
import { deviceBlocked, type TplinkAuthenticationError, type TplinkEndpoint } from './errors';
import { isObject } from '../util/guards';

/** When the firmware does not say how long (Tapo blocks for about 30 min). */
export const DEFAULT_BLOCK_SECONDS = 1800;

/** What a -40404 or a refused login says: `sec_left` and remaining attempts, wherever the firmware puts them. */
export interface LoginRefusal {
  secondsLeft?: number;
  attemptsLeft?: number;
}

/** `sec_left`, and the attempts left (`time` beside `max_time`), from the reply, its `result` or their `data`. */
export function loginRefusal(reply: unknown): LoginRefusal {
  const places: Record<string, unknown>[] = [];
  for (const o of [reply, isObject(reply) ? reply.result : undefined]) {
    if (!isObject(o)) continue;
    places.push(o);
    if (isObject(o.data)) places.push(o.data);
  }
  const refusal: LoginRefusal = {};
  for (const p of places) {
    if (typeof p.sec_left === 'number' && p.sec_left > 0) refusal.secondsLeft ??= p.sec_left;
    if (typeof p.time === 'number' && typeof p.max_time === 'number') refusal.attemptsLeft ??= Math.max(0, p.time);
  }
  return refusal;
}

export class LoginGuard {
  private blockedUntil: number | undefined;
  private refused = false;
  private turn = 0;
  /** The attempts left before the device blocks logins, when the firmware said. */
  attemptsLeft: number | undefined;

  constructor(private readonly endpoint: TplinkEndpoint) {}

  /** Throws, sending nothing, while the device blocks logins. */
  check(now: number): void {
    if (this.blockedUntil === undefined) return;
    if (now >= this.blockedUntil) {
      this.blockedUntil = undefined;
      return;
    }
    throw deviceBlocked(this.endpoint, (this.blockedUntil - now) / 1000, 'no login tried');
  }

  /** The device answered -40404: the error to throw; no login until `sec_left` has passed. */
  blocked(now: number, reply: unknown): TplinkAuthenticationError {
    const secondsLeft = loginRefusal(reply).secondsLeft;
    this.blockedUntil = now + (secondsLeft ?? DEFAULT_BLOCK_SECONDS) * 1000;
    return deviceBlocked(this.endpoint, secondsLeft);
  }

  /** The attempts to make now: `all` until the account is refused, then the next of `afterRefusal` only. */
  choose<T>(all: readonly T[], afterRefusal: readonly T[] = all): T[] {
    if (!this.refused || afterRefusal.length === 0) return [...all];
    return [afterRefusal[this.turn++ % afterRefusal.length]!];
  }

  /** A login was refused (the reply may say how many attempts are left). */
  refusedLogin(reply: unknown): void {
    this.refused = true;
    const { attemptsLeft } = loginRefusal(reply);
    if (attemptsLeft !== undefined) this.attemptsLeft = attemptsLeft;
  }

  succeeded(): void {
    this.refused = false;
    this.turn = 0;
    this.attemptsLeft = undefined;
    this.blockedUntil = undefined;
  }
}
