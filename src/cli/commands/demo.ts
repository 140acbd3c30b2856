import type { Command } from 'commander';

// Placeholder registration; replaced by the real command in this session's work.
export function registerDemoCommand(program: Command): void {
  program.command('demo').description('(demo: not built yet)');
}
