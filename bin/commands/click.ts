import type { Command } from 'commander';

// Placeholder until its issue lands: the command exists so `--help` lists it.
export function registerClick(program: Command): void {
  program
    .command('click')
    .description('(not built yet)')
    .action(() => {
      console.error('shadowplug click: not built yet');
      process.exitCode = 2;
    });
}
