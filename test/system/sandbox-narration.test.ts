/**
 * The pure parts of the sandbox's narration: which shadow documents become `desired` and
 * `reported` events, the event lines, and the commands the banner tells a newcomer to paste.
 */
import { describe, expect, it } from 'vitest';
import { ShadowObserver } from '../../sandbox/shadow-observer';
import { formatEvent, type SandboxEvent } from '../../sandbox/event-log';
import { clickArgs, clickCommand, formatBanner, READY_LINE, shellWord, uploadArgs } from '../../sandbox/banner';
import { parseClickActions } from '../../sandbox/sandbox-config';
import type { SandboxInfo } from '../../sandbox/sandbox-info';

const doc = (desired?: string, reported?: string) => ({
  current: {
    state: {
      ...(desired ? { desired: { s3: { url: `s3://b/${desired}`, hash: desired } } } : {}),
      ...(reported ? { reported: { s3: { url: `s3://b/${reported}`, hash: reported } } } : {}),
    },
  },
});

describe('ShadowObserver', () => {
  it('emits desired when the desired hash changes, and reported once the report catches up with it', () => {
    const events: SandboxEvent[] = [];
    const o = new ShadowObserver({ property: 's3', emit: (e) => events.push(e) });
    o.documents('t1', doc('aaa'));
    o.documents('t1', doc('aaa', 'old')); // a report of something else: not caught up
    o.documents('t1', doc('aaa', 'aaa'));
    o.documents('t1', doc('aaa', 'aaa')); // nothing new
    o.documents('t2', doc('aaa')); // the same object for another thing: hashed once, desired per thing
    expect(events).toEqual([
      { type: 'hashed', url: 's3://b/aaa', hash: 'aaa' },
      { type: 'desired', thing: 't1', hash: 'aaa', url: 's3://b/aaa' },
      { type: 'reported', thing: 't1', hash: 'aaa', url: 's3://b/aaa' },
      { type: 'desired', thing: 't2', hash: 'aaa', url: 's3://b/aaa' },
    ]);
    expect(o.reportedHash('t1')).toBe('aaa');
  });

  it('starts from a seeded document so a restarted sandbox does not re-announce old values', () => {
    const events: SandboxEvent[] = [];
    const o = new ShadowObserver({ property: 's3', emit: (e) => events.push(e) });
    o.seed('t1', { state: { desired: { s3: { url: 's3://b/x', hash: 'x' } }, reported: { s3: { url: 's3://b/x', hash: 'x' } } } });
    o.documents('t1', doc('x', 'x'));
    expect(events).toEqual([]);
    expect(o.desiredHash('t1')).toBe('x');
  });

  it('ignores other properties and malformed documents', () => {
    const events: SandboxEvent[] = [];
    const o = new ShadowObserver({ property: 's3', emit: (e) => events.push(e) });
    o.documents('t1', { current: { state: { desired: { power: 'on' } } } });
    o.documents('t1', 'not a document');
    o.documents('t1', { current: { state: { desired: { s3: 'not an object' } } } });
    expect(events).toEqual([]);
  });
});

describe('event lines', () => {
  it('escape control characters from keys so a key cannot drive the terminal', () => {
    const line = formatEvent({ type: 'upload', bucket: 'b', key: 'evil\u001b[2Jname\u0007', size: 1, eventName: 'ObjectCreated:Put' });
    expect(line).toBe('upload   s3://b/evil\\u001b[2Jname\\u0007 (1 B, ObjectCreated:Put)');
    expect([...line].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
  });

  it('say what happened in one line each', () => {
    expect(formatEvent({ type: 'plug', state: { model: 'HS100', alias: 'lamp', relayState: 1 } })).toBe('plug     lamp is ON');
    expect(formatEvent({ type: 'progress', thing: 'd1', bytes: 512 * 1024, total: 1024 * 1024 })).toBe('device   d1 downloading 50% of 1.0 MiB');
    expect(formatEvent({ type: 'reported', thing: 'd1', hash: 'abcdef0123456789', url: 's3://b/f.bin' })).toBe('shadow   d1 reported = desired (sha256 abcdef012345…)');
    expect(formatEvent({ type: 'installed', thing: 'd1', hash: 'ab', path: '/w/.sandbox/devices/d1/f.bin' }, '/w')).toBe('device   d1 verified sha256 ab, installed .sandbox/devices/d1/f.bin');
    expect(formatEvent({ type: 'installed', thing: 'd1', hash: 'ab', path: '/elsewhere/f.bin' }, '/w')).toMatch(/installed \/elsewhere\/f\.bin$/);
    expect(
      formatEvent({ type: 'plug', state: { model: 'HS300', alias: 'strip', children: [{ id: 'a00', index: 0, alias: 'a', state: 1 }, { id: 'a01', index: 1, alias: 'b', state: 0 }] } }),
    ).toBe('plug     strip outlets 0:ON 1:OFF');
  });
});

describe('--click-actions', () => {
  it('parses TYPE=action pairs case-insensitively', () => {
    expect(parseClickActions('double=ON, LONG=off')).toEqual({ SINGLE: 'toggle', DOUBLE: 'on', LONG: 'off' });
  });
  it('names the bad pair', () => {
    expect(() => parseClickActions('TRIPLE=on')).toThrow(/unknown click type "TRIPLE"/);
    expect(() => parseClickActions('SINGLE=dim')).toThrow(/--click-actions: unknown click action "dim" for SINGLE/);
    expect(() => parseClickActions('SINGLE')).toThrow(/"SINGLE" is not TYPE=action/);
  });
});

describe('the ready banner', () => {
  const info: SandboxInfo = {
    dir: '/home/me/proj/.sandbox',
    pid: 1,
    mqtt: { host: '127.0.0.1', port: 4001 },
    dataPlane: 'https://127.0.0.1:4002',
    credentials: { endpoint: '127.0.0.1:4003/role-aliases/r/credentials', roleAlias: 'r' },
    s3: { endpoint: 'http://127.0.0.1:4004', bucket: 'shadowplug', region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    ca: '/home/me/proj/.sandbox/iot/ca.pem',
    signingKey: '/home/me/proj/.sandbox/iot/publisher.key.pem',
    trustedKeys: ['/home/me/proj/.sandbox/iot/publisher.pub.pem'],
    things: [
      { name: 'shadowplug-device-1', cert: '/home/me/proj/.sandbox/iot/things/d1.cert.pem', key: '/k1', dest: '/home/me/proj/.sandbox/devices/shadowplug-device-1' },
      { name: 'shadowplug-device-2', cert: '/c2', key: '/k2', dest: '/d2' },
    ],
    button: { clientId: 'iotbutton_S1', serial: 'S1', cert: '/home/me/proj/.sandbox/iot/buttons/S1.cert.pem', key: '/home/me/proj/.sandbox/iot/buttons/S1.private.key' },
    plug: { host: '127.0.0.1', port: 4005, simulated: true, model: 'HS100' },
    buttonTopic: 'iotbutton/S1',
    agents: 'in-process',
  };

  it('starts with the ready line and gives paste-able commands with paths relative to the working directory', () => {
    const text = formatBanner(info, '/home/me/proj');
    expect(text.split('\n')[0]).toBe(READY_LINE);
    expect(text).toContain(
      'npx shadowplug click --endpoint 127.0.0.1:4001 --cert .sandbox/iot/buttons/S1.cert.pem --key .sandbox/iot/buttons/S1.private.key --ca-file .sandbox/iot/ca.pem --serial S1 --type SINGLE',
    );
    expect(text).toContain('npx shadowplug sandbox upload firmware.bin\n');
    expect(text).toContain('npx shadowplug sandbox upload firmware.bin --key things/shadowplug-device-2/firmware.bin\n');
    expect(text).toContain('aws --endpoint-url http://127.0.0.1:4004 s3 cp firmware.bin s3://shadowplug/firmware.bin');
    // The signed upload as against AWS, with the sandbox's key; devices trust only its public half.
    expect(text).toContain('npx shadowplug publish firmware.bin --key firmware.bin --bucket shadowplug --signing-key .sandbox/iot/publisher.key.pem --s3-endpoint http://127.0.0.1:4004 --region us-east-1');
    expect(text).toMatch(/publisher \(signs\) +\.sandbox\/iot\/publisher\.key\.pem +devices trust only \.sandbox\/iot\/publisher\.pub\.pem/);
    expect(text).toContain('AWS_DEFAULT_REGION=us-east-1 AWS_CA_BUNDLE=.sandbox/iot/ca.pem');
    expect(text).toContain('aws --endpoint-url https://127.0.0.1:4002 iot-data get-thing-shadow --thing-name shadowplug-device-1 /dev/stdout');
  });

  it("gives agents run by hand (--no-agents) the sandbox's publisher key to trust, as the in-process agents", () => {
    const text = formatBanner({ ...info, agents: 'none' }, '/home/me/proj');
    expect(text).toMatch(/npx shadowplug agent .* --trusted-key \.sandbox\/iot\/publisher\.pub\.pem\n/);
  });

  it('adds --dir when the sandbox is not the default one, and quotes what the shell would split', () => {
    expect(uploadArgs(info, '/elsewhere')).toEqual(['sandbox', 'upload', 'firmware.bin', '--dir', '/home/me/proj/.sandbox']);
    expect(clickArgs(info, '/elsewhere')).toContain('/home/me/proj/.sandbox/iot/ca.pem');
    expect(clickCommand({ ...info, ca: '/my dir/ca.pem' }, '/x')).toContain("--ca-file '/my dir/ca.pem'");
    expect(shellWord("it's")).toBe("'it'\\''s'");
  });
});
