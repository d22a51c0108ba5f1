import type { Command } from 'commander';

// Placeholder until its issue lands: the command exists so `--help` lists it.
export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('(not built yet)')
    .action(() => {
      console.error('shadowplug agent: not built yet');
      process.exitCode = 2;
    });
}
