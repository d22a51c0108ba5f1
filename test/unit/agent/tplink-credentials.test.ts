import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveAgentOptions } from '../../../agent/options';
import { AgentConfigError } from '../../../agent/errors';
import { readCredentialsFile } from '../../../agent/tplink-credentials';

const required = { endpoint: 'x-ats.iot.eu-west-1.amazonaws.com', cert: '/c.pem', key: '/k.pem', thingName: 'dev', dest: '/srv/files' };
const PASSWORD = 'pa55 word with spaces ';

async function failure(p: Promise<unknown>): Promise<AgentConfigError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgentConfigError);
  return err as AgentConfigError;
}

describe('the agent’s TP-Link account', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tplink-creds-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, text: string, mode = 0o600): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    chmodSync(path, mode);
    return path;
  }

  it('comes from SHADOWPLUG_TPLINK_USERNAME/PASSWORD, a flag winning over the variable, and is absent when none is given', async () => {
    const env = { SHADOWPLUG_TPLINK_USERNAME: 'me@example.com', SHADOWPLUG_TPLINK_PASSWORD: PASSWORD };
    expect((await resolveAgentOptions(required, undefined, env)).tplinkCredentials).toEqual({ username: 'me@example.com', password: PASSWORD });
    expect((await resolveAgentOptions({ ...required, tplinkUsername: 'other@example.com' }, undefined, env)).tplinkCredentials).toEqual({ username: 'other@example.com', password: PASSWORD });
    expect((await resolveAgentOptions(required, undefined, {})).tplinkCredentials).toBeUndefined();
  });

  it('comes from the config file, the environment winning over it', async () => {
    const config = file('a.json', JSON.stringify({ 'tplink-username': 'file@example.com', tplink_password: 'from-file' }));
    expect((await resolveAgentOptions({ ...required, config }, undefined, {})).tplinkCredentials).toEqual({ username: 'file@example.com', password: 'from-file' });
    const env = { SHADOWPLUG_TPLINK_PASSWORD: 'from-env' };
    expect((await resolveAgentOptions({ ...required, config }, undefined, env)).tplinkCredentials).toEqual({ username: 'file@example.com', password: 'from-env' });
  });

  it('refuses a config file holding the password that group or others may read, as it refuses such a credentials file', async () => {
    const config = file('agent.json', JSON.stringify({ 'tplink-username': 'file@example.com', 'tplink-password': PASSWORD }), 0o644);
    const err = await failure(resolveAgentOptions({ ...required, config }, undefined, {}));
    expect(err.message).toBe(`config file ${config} may be read by group or others (mode 0644); run chmod 600 ${config}`);
    expect(err.message).not.toContain(PASSWORD.trim());
    // Without the password in it, a readable config file is fine (it holds nothing secret).
    const open = file('open.json', JSON.stringify({ 'tplink-username': 'file@example.com' }), 0o644);
    const env = { SHADOWPLUG_TPLINK_PASSWORD: PASSWORD };
    expect((await resolveAgentOptions({ ...required, config: open }, undefined, env)).tplinkCredentials).toEqual({ username: 'file@example.com', password: PASSWORD });
  });

  it('reads a credentials file of two lines or JSON, mode 0600, keeping spaces in the password', async () => {
    const lines = file('lines', `me@example.com\n${PASSWORD}\n`);
    expect((await resolveAgentOptions({ ...required, tplinkCredentialsFile: lines }, undefined, {})).tplinkCredentials).toEqual({ username: 'me@example.com', password: PASSWORD });
    const json = file('creds.json', JSON.stringify({ username: 'me@example.com', password: PASSWORD }), 0o400);
    expect(await readCredentialsFile(json)).toEqual({ username: 'me@example.com', password: PASSWORD });
  });

  it('refuses a credentials file group or others may read, naming its mode and the fix, never its content', async () => {
    const path = file('open', `me@example.com\n${PASSWORD}\n`, 0o644);
    const err = await failure(resolveAgentOptions({ ...required, tplinkCredentialsFile: path }, undefined, {}));
    expect(err.message).toBe(`TP-Link credentials file ${path} may be read by group or others (mode 0644); run chmod 600 ${path}`);
    expect(err.code).toBe('AGENT_CONFIG');
  });

  it.each([
    ['bad JSON', `{"username": "me@example.com", "password": "${PASSWORD}"`, 'starts with "{" but is not valid JSON'],
    ['JSON without a password', '{"username": "me@example.com"}', 'must hold {"username"'],
    ['one line', `${PASSWORD}\n`, 'must hold two lines'],
    ['three lines', `me@example.com\n${PASSWORD}\nextra\n`, 'must hold two lines'],
  ])('refuses a credentials file with %s without quoting it', async (_what, text, words) => {
    const err = await failure(readCredentialsFile(file('bad', text)));
    expect(err.message).toContain(words);
    expect(err.message).not.toContain(PASSWORD.trim());
  });

  it('wants a username and a password together, and the account given once', async () => {
    expect((await failure(resolveAgentOptions({ ...required, tplinkUsername: 'me@example.com' }, undefined, {}))).message).toMatch(/without a password/);
    expect((await failure(resolveAgentOptions(required, undefined, { SHADOWPLUG_TPLINK_PASSWORD: PASSWORD }))).message).toMatch(/without --tplink-username/);
    const path = file('c', `me@example.com\n${PASSWORD}\n`);
    const env = { SHADOWPLUG_TPLINK_USERNAME: 'me@example.com', SHADOWPLUG_TPLINK_PASSWORD: PASSWORD };
    expect((await failure(resolveAgentOptions({ ...required, tplinkCredentialsFile: path }, undefined, env))).message).toMatch(/give the TP-Link account once/);
    const numeric = await failure(resolveAgentOptions({ ...required, tplinkUsername: 'me@example.com', tplinkPassword: 1234567 }, undefined, {}));
    expect(numeric.message).not.toContain('1234567');
  });
});
