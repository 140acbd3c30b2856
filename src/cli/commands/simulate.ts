import type { Command } from 'commander';

// Placeholder registration; replaced by the real command in this session's work.
export function registerSimulateCommand(program: Command): void {
  program.command('simulate').description('(simulate: not built yet)');
}
