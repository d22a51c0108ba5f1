/** `shadowplug sandbox` (the whole system on this machine), `sandbox click` and `sandbox upload <file>`. */
import type { Command } from 'commander';
// Type-only: erased at run time, so `--help` still loads nothing heavy.
import type { SandboxCliFlags } from '../../sandbox/cli';
import type { ClickType } from '../../core/button/click';
import { SANDBOX_SETTINGS as S } from '../../sandbox/cli-settings';
import type { Setting } from '../../core/settings/schema';
import { clickTypeOption, collect, describedOption, releaseOptions, reportFailure, settingOption, tplinkAccountOptions, type ReleaseFlags, type TplinkAccountFlags } from './common';

/**
 * Options shared with `sandbox` (--dir, --json) may be parsed by either command: prefer the
 * subcommand's, then the parent's when given on the command line (not its default).
 */
function sharedOptions<T>(sub: Command): { own: T; dir: string; json: boolean } {
  const own = sub.opts() as T & { dir?: string; json?: boolean };
  const parent = sub.parent!;
  const fromParent = (name: string): unknown => (parent.getOptionValueSource(name) === 'cli' ? parent.getOptionValue(name) : undefined);
  return {
    own,
    dir: own.dir ?? (fromParent('dir') as string | undefined) ?? '.sandbox',
    json: Boolean(own.json ?? fromParent('json')),
  };
}

/**
 * The AWS SDK warns on Node < 22 about its releases after January 2027; the sandbox talks only to
 * local stand-ins, so in its commands that warning is noise in the middle of the banner.
 */
function quietSdkNodeWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

const PARSED_FLAGS: readonly (keyof typeof S)[] = ['devices', 'fanOutWritesPerSecond', 'dataPlaneRate', 'dashboardPort', 'logLevel'];

export function registerSandbox(program: Command): void {
  const sandbox = program
    .command('sandbox')
    .description(
      'run the whole system on this machine with no AWS account: IoT Core stand-in (MQTT/TLS, shadows, ' +
        'data plane, credentials provider, button rule), local S3 with a bucket, a simulated plug, ' +
        'both Lambdas and one device agent per thing',
    )
    .action(async (flags: SandboxCliFlags) => {
      quietSdkNodeWarning();
      const { runSandboxCli } = await import('../../sandbox/cli');
      const code = await runSandboxCli(flags);
      process.exitCode = code;
      // Everything is closed by now; should a library still hold a handle, leave anyway.
      setTimeout(() => process.exit(code), 500).unref();
    });
  for (const [name, s] of Object.entries(S) as [keyof typeof S, Setting<unknown> & { flag: string }][]) {
    const options = { useDefault: name === 'dir' || name === 'devices' };
    // Numbers and the log level are read by their codec here; the rest by runSandboxCli.
    const option = PARSED_FLAGS.includes(name) ? settingOption(s, options) : describedOption(s, options);
    sandbox.addOption(name === 'plug' ? option.argParser(collect) : option);
  }

  const sandboxClick = sandbox
    .command('click')
    .description("press the running sandbox's button: publishes a click with the button's certificate, then shows the plug's state")
    .addOption(clickTypeOption());
  // The sandbox's TP-Link account (its email is in sandbox.json, its password never): to read the plug.
  for (const o of tplinkAccountOptions({ username: "TP-Link account email to read the plug with (default: the running sandbox's)", password: "that account's password (default: SHADOWPLUG_TPLINK_PASSWORD, or the sandbox's default account's)" })) {
    sandboxClick.addOption(o);
  }
  sandboxClick.action(async function (this: Command) {
    const { own, dir, json } = sharedOptions<{ type: string } & TplinkAccountFlags>(this);
    quietSdkNodeWarning();
    const { clickSandbox, describeClick } = await import('../../sandbox/click');
    try {
      const username = own.tplinkUsername ?? own.username;
      const password = own.tplinkPassword ?? own.password;
      const credentials = { ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}) };
      const r = await clickSandbox({ clickType: own.type.toUpperCase() as ClickType, dir, credentials });
      console.log(json ? JSON.stringify(r) : describeClick(r));
    } catch (err) {
      await reportFailure('sandbox click', err, json);
    }
  });

  const signing = releaseOptions("EC P-256 private key (PEM) to sign with (default: the sandbox's own, the only key its agents trust)");
  sandbox
    .command('upload <file>')
    .description("publish a file as a signed release to the running sandbox's bucket (found through <dir>/sandbox.json), as `shadowplug publish` does")
    .option('--key <key>', 'object key; things/<thing>/<name> reaches that thing only (default: the file name, for every thing)')
    .addOption(signing.signingKey)
    .addOption(signing.release)
    .addOption(signing.expires)
    .action(async function (this: Command, file: string) {
      const { own, dir, json } = sharedOptions<{ key?: string } & ReleaseFlags>(this);
      quietSdkNodeWarning();
      const { uploadFile } = await import('../../sandbox/upload');
      try {
        const r = await uploadFile({
          file,
          dir,
          expires: own.expires,
          ...(own.key !== undefined ? { key: own.key } : {}),
          ...(own.signingKey !== undefined ? { signingKey: own.signingKey } : {}),
          ...(own.release !== undefined ? { release: own.release } : {}),
        });
        if (json) console.log(JSON.stringify(r));
        else console.log(`uploaded ${file} to ${r.url} as release ${r.release} (${r.size} bytes, sha256 ${r.sha256}, signed by key ${r.keyId.slice(0, 12)}…, expires ${r.expires})`);
      } catch (err) {
        await reportFailure('sandbox upload', err, json);
      }
    });

  for (const sub of sandbox.commands) sub.option('--dir <path>', 'the sandbox directory (default .sandbox)').option('--json', 'print the result as one JSON object');
}
