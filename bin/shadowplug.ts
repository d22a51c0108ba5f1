/**
 * The shadowplug command line. Each subcommand lives in bin/commands/<name>.ts and registers
 * itself; heavy modules are imported inside the action so `--help` stays instant.
 */
import { Command } from 'commander';
import { createLogger } from '../core/logger';
import { routeProcessWarnings } from '../core/process-warnings';
import { SHADOWPLUG_VERSION } from '../core/version';
import { registerPlug } from './commands/plug';
import { registerClick } from './commands/click';
import { registerAgent } from './commands/agent';
import { registerSandbox } from './commands/sandbox';
import { registerPublish } from './commands/publish';
import { addVersionEverywhere } from './commands/common';
import { startedByNpm, watchParent } from './parent-watch';

const program = new Command('shadowplug')
  .description('Click a button, the lamp toggles. Upload a file, the device gets it, verified.')
  .showHelpAfterError()
  // Options belong to the command they follow (`plug discover --json` is discover's --json, not plug's).
  .enablePositionalOptions()
  .exitOverride((err) => {
    process.exit(err.exitCode);
  });

// Node's warnings (the AWS SDK's eight-line Node notice) as one line each, JSON under --json;
// the agent routes them through its own logger once it has one.
routeProcessWarnings(process, createLogger({ level: 'warn', json: process.argv.includes('--json') }));

registerPlug(program);
registerClick(program);
registerAgent(program);
registerSandbox(program);
registerPublish(program);
addVersionEverywhere(program, SHADOWPLUG_VERSION);

// Under npx a supervisor's SIGTERM reaches npm, not us: stop as if it had when npm is gone.
if (startedByNpm(process.env)) watchParent({ ppid: () => process.ppid, onGone: () => process.kill(process.pid, 'SIGTERM') });

await program.parseAsync(process.argv);
