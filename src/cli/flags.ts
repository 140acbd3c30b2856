import { configError } from '../util/errors.js';

/**
 * A whole-number flag (`--concurrency 4`): undefined when not given, a usage error naming the flag
 * and an example when it is not a whole number of at least `min`.
 */
export function wholeNumberFlag(
  flag: string,
  value: string | undefined,
  options: { min: 0 | 1; example: string },
): number | undefined {
  if (value === undefined) return undefined;
  if (!(options.min === 1 ? /^[1-9]\d*$/ : /^\d+$/).test(value)) {
    const what = options.min === 1 ? 'a positive whole number' : 'a whole number (0 or more)';
    throw configError(`${flag} must be ${what}, got '${value}'`, {
      code: 'CLI_FLAG',
      key: flag,
      fix: `e.g. ${flag} ${options.example}`,
    });
  }
  return Number(value);
}

/** `--destination`'s help, the same for every command that loads or reads a destination. */
export const DESTINATION_OPTION_HELP =
  'duckdb:<path> (default duckdb:./klaviyo.duckdb), parquet:<folder> or postgres://user@host:port/database; default: $KLAVIYO_INGEST_DESTINATION';
