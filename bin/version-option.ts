/** `--version` on every command and subcommand, not only the top one (`shadowplug agent --version`). */
import type { Command } from 'commander';

export function addVersionEverywhere(command: Command, version: string): void {
  command.version(version, '-V, --version', 'print the shadowplug version');
  for (const sub of command.commands) addVersionEverywhere(sub, version);
}
