/**
 * `--json` errors: a command asked for JSON gets its error as JSON on stdout too (the usual message
 * still goes to stderr), so a script or monitor parsing stdout never meets plain text. Usage errors
 * from commander (unknown option, missing argument) become the same shape with exit 2.
 */
import type { CommanderError } from 'commander';
import type { IngestError } from '../util/errors.js';
import { redact } from '../util/redact.js';

export interface JsonError {
  ok: false;
  exitCode: number;
  error: {
    code: string;
    message: string;
    file?: string;
    key?: string;
    line?: number;
    fix?: string;
  };
}

/** Whether argv asks for JSON output: `--json`, or `--format json` (query), before any `--`. */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  const args = end < 0 ? argv : argv.slice(0, end);
  return args.some(
    (arg, i) => arg === '--json' || arg === '--format=json' || (arg === '--format' && args[i + 1] === 'json'),
  );
}

/** commander's codes (`commander.unknownOption`) as ours (`CLI_UNKNOWN_OPTION`). */
function usageCode(commanderCode: string): string {
  const name = commanderCode.replace(/^commander\./, '').replace(/([a-z])([A-Z])/g, '$1_$2');
  return `CLI_${name.toUpperCase()}`;
}

export function usageErrorJson(error: CommanderError): JsonError {
  return {
    ok: false,
    exitCode: 2,
    error: {
      code: usageCode(error.code),
      message: error.message.replace(/^error: /, ''),
      fix: 'see --help of the command',
    },
  };
}

export function ingestErrorJson(error: IngestError): JsonError {
  return {
    ok: false,
    exitCode: error.exitCode,
    error: {
      code: error.code,
      message: error.message,
      ...(error.file === undefined ? {} : { file: error.file }),
      ...(error.key === undefined ? {} : { key: error.key }),
      ...(error.line === undefined ? {} : { line: error.line }),
      ...(error.fix === undefined ? {} : { fix: error.fix }),
    },
  };
}

export function unexpectedErrorJson(message: string): JsonError {
  return { ok: false, exitCode: 1, error: { code: 'UNEXPECTED', message } };
}

export function writeJsonError(json: JsonError): void {
  process.stdout.write(`${redact(JSON.stringify(json, null, 2))}\n`);
}
