import type { Command } from 'commander';

// Placeholder registration; replaced by the real command in this session's work.
export function registerInitCommand(program: Command): void {
  program.command('init').description('(init: not built yet)');
}
