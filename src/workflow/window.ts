import { configError } from '../util/errors.js';
import { formatTemplateTime, parseTimestamp } from '../util/timestamps.js';
import type { Destination } from '../warehouse/destination.js';
import type { DatasourceSpec } from './types.js';

/** `td.last_results` of the templates' setup step: the window handed to the load config. */
export interface WindowStrings {
  start_time: string;
  end_time: string;
}

export function incrementalColumn(datasource: DatasourceSpec): string | null {
  const field = datasource.incremental_field;
  return field === null || field === undefined || field === '' ? null : field;
}

/**
 * The templates' `+setup_table_and_time` step. With an incremental field: start = the table's max of
 * that field in UTC, cut to whole seconds, `.000000` format, or `default_start_time` when the table has
 * no value; end = now, same format. Without: start = '' and end = now.
 */
export async function computeWindow(
  destination: Destination | null,
  schema: string,
  datasource: DatasourceSpec,
  nowMs: number,
): Promise<WindowStrings> {
  const end_time = formatTemplateTime(nowMs);
  const column = incrementalColumn(datasource);
  if (column === null) return { start_time: '', end_time };
  const max = destination ? await destination.maxTimestamp(schema, datasource.table_name, column) : null;
  if (max === null) return { start_time: datasource.default_start_time ?? '', end_time };
  // Beyond the templates: a lookback re-reads a trailing period for late-arriving records (the
  // exactly-once dedupe drops what is already there), never reaching before default_start_time.
  const floor = datasource.default_start_time ? parseTimestamp(datasource.default_start_time) : null;
  const start = datasource.lookbackMs > 0 ? Math.max(max - datasource.lookbackMs, floor ?? -Infinity) : max;
  return { start_time: formatTemplateTime(start), end_time };
}

/**
 * `--start` / `--end` ("test with small date ranges first"): any timestamp we can read, written in the
 * template format. Checked once before anything runs, so a bad one is a config error, not a failed source.
 */
export function normaliseWindowOverrides(
  start: string | undefined,
  end: string | undefined,
): { start?: string; end?: string } {
  const out: { start?: string; end?: string } = {};
  const parsed: { start?: number; end?: number } = {};
  for (const [flag, value] of [
    ['start', start],
    ['end', end],
  ] as const) {
    if (value === undefined) continue;
    const ms = parseTimestamp(value);
    if (ms === null) {
      throw configError(`--${flag} '${value}' is not a timestamp; nothing was run`, {
        code: 'BAD_WINDOW_OVERRIDE',
        key: `--${flag}`,
        fix: `write a UTC date or time, e.g. --${flag} 2025-09-01T00:00:00.000000 or --${flag} 2025-09-01`,
      });
    }
    parsed[flag] = ms;
    out[flag] = formatTemplateTime(ms);
  }
  if (parsed.start !== undefined && parsed.end !== undefined && parsed.start >= parsed.end) {
    throw configError(`--start '${start}' is not before --end '${end}'; nothing was run`, {
      code: 'BAD_WINDOW_OVERRIDE',
      key: '--start',
      fix: 'give a --start earlier than --end (the window is start-inclusive, end-exclusive)',
    });
  }
  return out;
}
