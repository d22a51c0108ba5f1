import type { Command } from 'commander';

// Placeholder until its issue lands: the command exists so `--help` lists it.
export function registerSandbox(program: Command): void {
  program
    .command('sandbox')
    .description('(not built yet)')
    .action(() => {
      console.error('shadowplug sandbox: not built yet');
      process.exitCode = 2;
    });
}
