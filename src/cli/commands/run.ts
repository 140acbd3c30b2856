import type { Command } from 'commander';

// Placeholder registration; replaced by the real command in this session's work.
export function registerRunCommand(program: Command): void {
  program.command('run').description('(run: not built yet)');
}
