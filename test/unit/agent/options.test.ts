import { describe, expect, it } from 'vitest';
import { checkAgentOptions, optionNameOf, readConfigFile, resolveAgentOptions } from '../../../agent/options';
import { AgentConfigError } from '../../../agent/errors';

const required = { endpoint: 'x-ats.iot.eu-west-1.amazonaws.com', cert: '/c.pem', key: '/k.pem', thingName: 'dev', dest: '/srv/files' };

describe('agent options', () => {
  it('maps kebab, camel and the seed snake_case spellings to one option', () => {
    for (const s of ['--ca-file', 'ca_file', 'caFile', '--root-ca', 'root_ca']) expect(optionNameOf(s)).toBe('caFile');
    expect(optionNameOf('--thing_name')).toBe('thingName');
    expect(optionNameOf('credential_endpoint')).toBe('credentialEndpoint');
    expect(optionNameOf('--signing_region')).toBe('region');
    expect(optionNameOf('--nonsense')).toBeUndefined();
  });

  it('fills defaults (port 8883, not once, info logs)', async () => {
    const o = await resolveAgentOptions(required);
    expect(o).toMatchObject({ ...required, port: 8883, once: false, json: false, logLevel: 'info' });
    expect(o.maxSize).toBeUndefined();
  });

  it('reads the plugs it drives, their poll interval and the request age limit', async () => {
    const o = await resolveAgentOptions({ ...required, plugs: 'lamp@dev=192.168.1.20,fan@dev=192.168.1.21#1', plugPollMs: '5000', maxRequestAgeMs: '20000' });
    expect(o.plugs).toEqual([
      { id: 'lamp', hub: 'dev', host: '192.168.1.20', port: 9999 },
      { id: 'fan', hub: 'dev', host: '192.168.1.21', port: 9999, child: 1 },
    ]);
    expect(o).toMatchObject({ plugPollMs: 5000, maxRequestAgeMs: 20000 });
    await expect(resolveAgentOptions({ ...required, plugs: 'lamp=1.2.3.4' })).rejects.toThrow(/--plugs.*id@hub=host/);
  });

  // The stack's context keys use the same settings: what synth accepts, the agent accepts, and the reverse.
  it.each([
    ['shadowProperty', 'agent', /--shadow-property: "agent" is where the agent reports itself/],
    ['shadowProperty', 'a$b', /--shadow-property: "a\$b" is not a shadow property/],
    ['shadowName', 'plug-lamp', /--shadow-name: "plug-lamp" starts with "plug-"/],
    ['thingName', '', /--thing-name: "" is not a thing name/],
  ] as const)('refuses %s %j as a flag and in code, as the stack does', async (name, value, message) => {
    await expect(resolveAgentOptions({ ...required, [name]: value })).rejects.toThrow(message);
    expect(() => checkAgentOptions({ ...required, [name]: value })).toThrow(message);
  });

  it('takes the schema defaults in code (property s3, port 8883, 1 GiB)', () => {
    expect(checkAgentOptions(required)).toMatchObject({ shadowProperty: 's3', port: 8883, maxSize: 1024 ** 3 });
  });

  it('names every missing required flag', async () => {
    await expect(resolveAgentOptions({ endpoint: 'e' })).rejects.toThrow('missing required options: --cert, --key, --thing-name, --dest');
  });

  it('reads a config file, resolving relative paths against its directory, and lets flags win', async () => {
    const files: Record<string, string> = {
      '/etc/shadowplug/agent.json': JSON.stringify({ endpoint: 'from-file', 'ca-file': 'ca.pem', cert: 'c.pem', key: '/abs/k.pem', thing_name: 'dev', dest: '../files', port: '8884', 'max-size': '10MiB', once: true }),
    };
    const o = await resolveAgentOptions({ config: '/etc/shadowplug/agent.json', endpoint: 'from-flag' }, async (p) => files[p]!);
    expect(o).toMatchObject({ endpoint: 'from-flag', caFile: '/etc/shadowplug/ca.pem', cert: '/etc/shadowplug/c.pem', key: '/abs/k.pem', dest: '/etc/files', port: 8884, maxSize: 10 * 1024 * 1024, once: true });
  });

  it('refuses unknown config keys, bad JSON and bad values with a message naming them', async () => {
    await expect(readConfigFile('/a.json', async () => '{"endpont":"x"}')).rejects.toThrow('unknown option "endpont"');
    await expect(readConfigFile('/a.json', async () => '{')).rejects.toThrow('not valid JSON');
    await expect(readConfigFile('/a.json', async () => '[]')).rejects.toThrow('must hold a JSON object');
    await expect(resolveAgentOptions({ ...required, port: '99999' })).rejects.toThrow('--port: expected a whole number from 1 to 65535, got "99999"');
    await expect(resolveAgentOptions({ ...required, logLevel: 'loud' })).rejects.toThrow(AgentConfigError);
  });

  it.each([
    ['1048576', 1048576],
    ['500MiB', 500 * 1024 * 1024],
    ['2GB', 2e9],
    ['1.5g', 1.5 * 1024 ** 3],
    ['64k', 65536],
    [4096, 4096],
  ])('parses size %j', async (input, bytes) => {
    expect((await resolveAgentOptions({ ...required, maxSize: input }, undefined, {})).maxSize).toBe(bytes);
  });

  it.each(['', '-1', '12 parsecs', '1e9', 1.5])('refuses size %j', async (input) => {
    await expect(resolveAgentOptions({ ...required, maxSize: input }, undefined, {})).rejects.toThrow(AgentConfigError);
  });
});
