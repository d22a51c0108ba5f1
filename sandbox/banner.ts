/**
 * The human-readable "ready" screen: endpoints, things, certificate paths, and commands a
 * newcomer can paste as they are. Pure: builds text from the sandbox's info.
 */
import { resolve } from 'node:path';
import { formatPlug } from '../core/plug-relay/config';
import { displayPath as shortPath } from './event-log';
import type { SandboxInfo } from './sandbox-info';

export const READY_LINE = 'shadowplug sandbox ready';

/** Quotes a shell word only when it needs it (POSIX sh). */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `--dir <dir>` unless it is the default `.sandbox` of this working directory. */
function dirArgs(info: SandboxInfo, cwd: string): string[] {
  return resolve(cwd, '.sandbox') === resolve(info.dir) ? [] : ['--dir', shortPath(info.dir, cwd)];
}

/** The arguments of `shadowplug click` that publish one click as the sandbox button (MQTT/TLS). */
export function clickArgs(info: SandboxInfo, cwd: string, clickType = 'SINGLE'): string[] {
  return [
    'click',
    '--endpoint', `${info.mqtt.host}:${info.mqtt.port}`,
    '--cert', shortPath(info.button.cert, cwd),
    '--key', shortPath(info.button.key, cwd),
    '--ca-file', shortPath(info.ca, cwd),
    '--serial', info.button.serial,
    '--type', clickType,
  ];
}

/** The relay plugs whose hub is `thing`, as the agent's `--plugs` takes them. */
function hubPlugs(info: SandboxInfo, thing: string): string | undefined {
  const plugs = (info.plugs ?? []).filter((p) => p.mode === 'relay' && p.thing === thing);
  if (plugs.length === 0) return undefined;
  return plugs
    .map((p) => formatPlug({ id: p.id, hub: thing, host: p.host, port: p.port, ...(p.outlet !== undefined ? { child: p.outlet } : {}), ...(p.protocol !== undefined ? { protocol: p.protocol } : {}), ...(p.family !== undefined ? { family: p.family } : {}) }))
    .join(',');
}

/**
 * The arguments of `shadowplug agent` for one thing: the device program, as on a real device; with
 * the plugs it is the hub of (relay mode) and `--jobs` in roll-out mode, as the in-process agents run.
 */
export function agentArgs(info: SandboxInfo, cwd: string, thing: SandboxInfo['things'][number]): string[] {
  const plugs = hubPlugs(info, thing.name);
  return [
    'agent',
    '--endpoint', `${info.mqtt.host}:${info.mqtt.port}`,
    '--cert', shortPath(thing.cert, cwd),
    '--key', shortPath(thing.key, cwd),
    '--ca-file', shortPath(info.ca, cwd),
    '--thing-name', thing.name,
    '--credential-endpoint', info.credentials.endpoint,
    '--s3-endpoint', info.s3.endpoint,
    '--region', info.s3.region,
    '--dest', shortPath(thing.dest, cwd),
    '--state-dir', shortPath(resolve(info.dir, 'agent-state', thing.name), cwd),
    ...(plugs !== undefined ? ['--plugs', plugs] : []),
    ...(info.rollout ? ['--jobs'] : []),
    // As the in-process agents: only releases signed by the sandbox's publisher key.
    ...info.trustedKeys.flatMap((k) => ['--trusted-key', shortPath(k, cwd)]),
  ];
}

/** The arguments of `shadowplug sandbox upload`. */
export function uploadArgs(info: SandboxInfo, cwd: string, file = 'firmware.bin', key?: string): string[] {
  return ['sandbox', 'upload', file, ...(key ? ['--key', key] : []), ...dirArgs(info, cwd)];
}

export function clickCommand(info: SandboxInfo, cwd: string, clickType = 'SINGLE'): string {
  return ['npx', 'shadowplug', ...clickArgs(info, cwd, clickType)].map(shellWord).join(' ');
}

export function uploadCommand(info: SandboxInfo, cwd: string, file = 'firmware.bin', key?: string): string {
  return ['npx', 'shadowplug', ...uploadArgs(info, cwd, file, key)].map(shellWord).join(' ');
}

/** The same upload with the AWS CLI (v1 or v2), with the environment it needs against the local S3. */
export function awsCliCommand(info: SandboxInfo, file = 'firmware.bin', key = file): string {
  return [
    `AWS_ACCESS_KEY_ID=${info.s3.accessKeyId} AWS_SECRET_ACCESS_KEY=${info.s3.secretAccessKey} AWS_DEFAULT_REGION=${info.s3.region}`,
    // Newer AWS CLIs send aws-chunked bodies with trailing checksums, which the local S3 stores verbatim.
    'AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED AWS_RESPONSE_CHECKSUM_VALIDATION=WHEN_REQUIRED',
    `aws --endpoint-url ${info.s3.endpoint} s3 cp ${shellWord(file)} s3://${info.s3.bucket}/${shellWord(key)}`,
  ].join(' \\\n    ');
}

/** The same upload as `shadowplug publish` runs it against AWS: here with the sandbox's key and its local S3. */
export function publishCommand(info: SandboxInfo, cwd: string, file = 'firmware.bin', key = file): string {
  return [
    `AWS_ACCESS_KEY_ID=${info.s3.accessKeyId} AWS_SECRET_ACCESS_KEY=${info.s3.secretAccessKey}`,
    ['npx', 'shadowplug', 'publish', file, '--key', key, '--bucket', info.s3.bucket, '--signing-key', shortPath(info.signingKey, cwd), '--s3-endpoint', info.s3.endpoint, '--region', info.s3.region].map(shellWord).join(' '),
  ].join(' \\\n    ');
}

/** Reading a thing's shadow through the data-plane API with the AWS CLI (trusting the sandbox CA). */
export function shadowCliCommand(info: SandboxInfo, cwd: string, thing: string): string {
  return [
    `AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox AWS_DEFAULT_REGION=${info.s3.region} AWS_CA_BUNDLE=${shellWord(shortPath(info.ca, cwd))}`,
    `aws --endpoint-url ${info.dataPlane} iot-data get-thing-shadow --thing-name ${shellWord(thing)} /dev/stdout`,
  ].join(' \\\n    ');
}

export function formatBanner(info: SandboxInfo, cwd = process.cwd()): string {
  const p = (x: string) => shortPath(x, cwd);
  const first = info.things[0];
  const other = info.things[1] ?? first;
  const plug = `${info.plug.host}:${info.plug.port}${info.plug.simulated ? ` (simulated ${info.plug.model ?? 'plug'})` : ' (real plug)'}`;
  const plugLines = (info.plugs ?? []).map((x) => {
    const what = x.kind === 'real' ? 'real plug' : `simulated ${x.model ?? x.kind}${x.protocol ? ` on ${x.protocol.toUpperCase()}` : ''}`;
    const via = x.mode === 'relay' ? `  via ${x.thing}/${x.shadowName}` : '  direct';
    return `  plug ${x.id.padEnd(18)} ${x.host}:${x.port}${x.outlet !== undefined ? `#${x.outlet}` : ''} (${what})${via}`;
  });
  const lines = [
    READY_LINE,
    '',
    ...(info.dashboard ? [`Dashboard: ${info.dashboard}  (open it in a browser; it lives only on this machine)`, ''] : []),
    'Endpoints (all on this machine)',
    `  MQTT/TLS (IoT Core)     ${info.mqtt.host}:${info.mqtt.port}   button topic ${info.buttonTopic}`,
    `  IoT data plane (HTTPS)  ${info.dataPlane}`,
    `  credentials provider    https://${info.credentials.endpoint}   role alias ${info.credentials.roleAlias}`,
    `  S3                      ${info.s3.endpoint}   bucket ${info.s3.bucket}`,
    ...(plugLines.length > 0 ? plugLines : [`  plug                    ${plug}`]),
    '',
    'Certificates',
    `  CA                      ${p(info.ca)}`,
    `  publisher (signs)       ${p(info.signingKey)}   devices trust only ${info.trustedKeys.map(p).join(', ')}`,
    `  button ${info.button.serial.padEnd(16)} ${p(info.button.cert)}  ${p(info.button.key)}`,
    ...info.things.slice(0, 5).map((t) => `  ${t.name.padEnd(23)} ${p(t.cert)}  ${p(t.key)}`),
    ...(info.things.length > 5 ? [`  … and ${info.things.length - 5} more things (see ${p(info.dir)}/sandbox.json)`] : []),
    '',
    info.agents === 'none'
      ? `Things (${info.things.length}), with no agent running: start one per thing (each in its own terminal), e.g.`
      : `Things (${info.things.length}), each with an agent installing into ${p(info.things.length > 1 ? resolve(info.dir, 'devices') : (first?.dest ?? ''))}${info.things.length > 1 ? '/<thing>' : ''}`,
    info.agents === 'none' && first
      ? `  ${['npx', 'shadowplug', ...agentArgs(info, cwd, first)].map(shellWord).join(' ')}`
      : `  ${info.things.slice(0, 5).map((t) => t.name).join(', ')}${info.things.length > 5 ? ', …' : ''}`,
    '',
    'Click the button (in another terminal, from this directory):',
    `  ${['npx', 'shadowplug', 'sandbox', 'click', ...dirArgs(info, cwd)].map(shellWord).join(' ')}`,
    '…which does the same as the full command a real button (or any MQTT client) would need:',
    `  ${clickCommand(info, cwd)}`,
    '',
    'Upload a file to every device:',
    `  ${uploadCommand(info, cwd)}`,
    ...(other ? ['', `…or to ${other.name} only:`, `  ${uploadCommand(info, cwd, 'firmware.bin', `things/${other.name}/firmware.bin`)}`] : []),
    '',
    'The same signed upload as `shadowplug publish` makes it against AWS:',
    `  ${publishCommand(info, cwd)}`,
    '',
    'An unsigned upload (the AWS CLI, any S3 client) reaches the devices, which refuse it (RELEASE_UNSIGNED):',
    `  ${awsCliCommand(info)}`,
    '',
    ...(first ? ['Read a shadow with the AWS CLI:', `  ${shadowCliCommand(info, cwd, first.name)}`, ''] : []),
    'Events follow. Ctrl-C stops everything.',
    '',
  ];
  return lines.join('\n');
}
