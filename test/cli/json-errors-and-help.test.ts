/**
 * `--json` errors: every command with `--json` (and `query --format json`) prints its error as JSON on
 * stdout, usage errors from commander included, exit 2. And every command's `--help` ends with examples
 * that use only options the command has.
 */
import { describe, expect, it } from 'vitest';
import { HELP_EXAMPLES, optionsUsed } from '../../src/cli/help-examples.js';
import { runCli } from '../support/cli-in-process.js';
import { freshProject } from '../support/project.js';

const JSON_COMMANDS: string[][] = [
  ['run', 'inc', '--json'],
  ['validate', '--json'],
  ['status', '--json'],
  ['verify', '--json'],
  ['add-source', 'flows', '--json'],
  ['query', 'SELECT 1', '--format', 'json'],
];

describe('--json errors are JSON on stdout, exit 2', () => {
  it.each(JSON_COMMANDS.map((argv) => [argv.join(' '), argv]))(
    '%s: an unknown option',
    async (_name, argv) => {
      const result = await runCli([...(argv as string[]), '--no-such-flag']);
      expect(result.code).toBe(2);
      expect(JSON.parse(result.stdout)).toEqual({
        ok: false,
        exitCode: 2,
        error: {
          code: 'CLI_UNKNOWN_OPTION',
          message: "unknown option '--no-such-flag'",
          fix: 'see --help of the command',
        },
      });
      // The person at the terminal still gets the usual message.
      expect(result.stderr).toContain("error: unknown option '--no-such-flag'");
    },
  );

  it('a missing argument, an option without its value, an unknown command', async () => {
    const missing = await runCli(['run', '--json']);
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout).error).toMatchObject({
      code: 'CLI_MISSING_ARGUMENT',
      message: "missing required argument 'workflow'",
    });
    const noValue = await runCli(['status', '--json', '--destination']);
    expect(JSON.parse(noValue.stdout).error.code).toBe('CLI_OPTION_MISSING_ARGUMENT');
    const unknown = await runCli(['stauts', '--json']);
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout).error.code).toBe('CLI_UNKNOWN_COMMAND');
  });

  it('configuration errors keep their code, file, key and fix', async () => {
    const project = freshProject();
    const bad = await runCli(['run', 'inc', '--project', project, '--checkpoint-rows', 'many', '--json']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toEqual({
      ok: false,
      exitCode: 2,
      error: {
        code: 'CLI_FLAG',
        message: "--checkpoint-rows must be a positive whole number, got 'many'",
        key: '--checkpoint-rows',
        fix: 'e.g. --checkpoint-rows 10000',
      },
    });
    const missing = await runCli([
      'status',
      '--json',
      '--project',
      project,
      '--destination',
      `duckdb:${project}/x.duckdb`,
    ]);
    expect(JSON.parse(missing.stdout).error).toMatchObject({
      code: 'DESTINATION_MISSING',
      key: '--destination',
    });
  });

  it('without --json, errors stay plain text on stderr and stdout stays empty', async () => {
    const result = await runCli(['run', 'inc', '--no-such-flag']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
  });
});

describe('--help of every command ends with examples', () => {
  const commands = ['demo', 'init', 'validate', 'run', 'status', 'verify', 'simulate', 'query', 'add-source'];

  it.each(commands)('%s --help', async (command) => {
    const result = await runCli([command, '--help']);
    expect(result.code).toBe(0);
    const examples = result.stdout.slice(result.stdout.indexOf('\nExamples:\n'));
    expect(examples.length).toBeGreaterThan(20);
    const lines = examples.split('\n').filter((l) => l.startsWith('  $ '));
    expect(lines.length).toBeGreaterThan(0);
    const options = new Set(
      [...result.stdout.slice(0, result.stdout.indexOf('\nExamples:\n')).matchAll(/(--[a-z][a-z-]*)/g)].map(
        (m) => m[1],
      ),
    );
    for (const line of lines) {
      expect(line).toContain(`klaviyo-ingest ${command}`);
      // Every option an example uses is one the command lists.
      for (const flag of optionsUsed(line)) expect(options, `${line}: ${flag}`).toContain(flag);
    }
  });

  it('every command has examples written for it, and the top-level help points to them', async () => {
    expect(Object.keys(HELP_EXAMPLES).sort()).toEqual([...commands].sort());
    const top = await runCli(['--help']);
    expect(top.stdout).toContain('Each command has examples in its --help');
  });
});
