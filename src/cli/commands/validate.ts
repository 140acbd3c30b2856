import type { Command } from 'commander';

// Placeholder registration; replaced by the real command in this session's work.
export function registerValidateCommand(program: Command): void {
  program.command('validate').description('(validate: not built yet)');
}
