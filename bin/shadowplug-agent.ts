/**
 * The installed device agent: `npm run build` bundles it into dist/shadowplug-agent.mjs, which runs
 * with a plain `node` and no node_modules (docs/agent.md). Same flags as `shadowplug agent`.
 */
import { Command } from 'commander';
import { SHADOWPLUG_VERSION } from '../core/version';
import { AGENT_DESCRIPTION, configureAgentCommand } from './commands/agent';
import { addVersionEverywhere } from './commands/common';

const program = configureAgentCommand(new Command('shadowplug-agent').description(AGENT_DESCRIPTION))
  .showHelpAfterError()
  .exitOverride((err) => {
    process.exit(err.exitCode);
  });
addVersionEverywhere(program, SHADOWPLUG_VERSION);

await program.parseAsync(process.argv);
