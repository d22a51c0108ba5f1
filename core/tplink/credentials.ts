/**
 * TP-Link account credentials for KLAP and AES, and the defaults devices fall back to (never bound to
 * an account, or answering with them at times), tried after the user's. Never log these.
 */
import type { Credentials } from './klap-crypto';
import { envName } from '../settings/schema';

export type { Credentials } from './klap-crypto';

/** Kasa devices' setup credentials. */
export const KASA_DEFAULT_CREDENTIALS: Credentials = { username: 'kasa@tp-link.net', password: 'kasaSetup' };
/** Tapo devices' setup credentials. */
export const TAPO_DEFAULT_CREDENTIALS: Credentials = { username: 'test@tp-link.net', password: 'test' };
const BLANK_CREDENTIALS: Credentials = { username: '', password: '' };

/** The user's credentials (if any) first, then the defaults, without duplicates. */
export function candidateCredentials(user: Credentials | undefined): Credentials[] {
  const all = [...(user ? [user] : []), KASA_DEFAULT_CREDENTIALS, TAPO_DEFAULT_CREDENTIALS, BLANK_CREDENTIALS];
  return all.filter((c, i) => all.findIndex((o) => o.username === c.username && o.password === c.password) === i);
}

/** Credentials from the environment: SHADOWPLUG_TPLINK_USERNAME / SHADOWPLUG_TPLINK_PASSWORD. */
export function credentialsFromEnv(env: Record<string, string | undefined>): Credentials | undefined {
  const username = env[envName('tplinkUsername')];
  const password = env[envName('tplinkPassword')];
  if (username === undefined || password === undefined) return undefined;
  return { username, password };
}
