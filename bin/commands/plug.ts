import type { Command } from 'commander';

// Placeholder until its issue lands: the command exists so `--help` lists it.
export function registerPlug(program: Command): void {
  program
    .command('plug')
    .description('(not built yet)')
    .action(() => {
      console.error('shadowplug plug: not built yet');
      process.exitCode = 2;
    });
}
