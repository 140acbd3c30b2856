/** Critical reminder 1: timestamps are `YYYY-MM-DDTHH:MM:SS.000000` (6 decimals, `T`, no `Z`). */
import { isTemplateTime, parseTimestamp } from '../../util/timestamps.js';
import { DATE_RANGES_FILE } from '../config-files.js';
import { datasourceRefs, keyOf, lineOf } from './lists.js';
import type { RuleGroup } from './types.js';

const FIX =
  'Write the time as "YYYY-MM-DDTHH:MM:SS.000000": 6 decimals, a T separator, no Z (e.g. "2025-09-01T00:00:00.000000").';

function problem(text: string): string {
  if (/[Zz]$|[+-]\d{2}:?\d{2}$/.test(text)) return 'has a zone suffix';
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) return "lacks the 'T' separator";
  if (!/\.\d{6}$/.test(text)) return 'does not have 6 decimals';
  return 'is not a valid date and time';
}

export const timestampRules: RuleGroup = {
  name: 'timestamps',
  codes: ['TIME_FORMAT', 'DATE_RANGE_ORDER'],
  check({ snapshot, report }) {
    for (const ref of datasourceRefs(snapshot)) {
      const value = ref.datasource.default_start_time;
      if (value === null || isTemplateTime(value)) continue;
      report({
        code: 'TIME_FORMAT',
        severity: 'error',
        file: ref.yaml.file,
        line: lineOf(ref, 'default_start_time'),
        key: keyOf(ref, 'default_start_time'),
        message: `default_start_time "${value}" ${problem(value)} ("Invalid timestamp format")`,
        fix: FIX,
      });
    }
    const ranges = snapshot.dateRanges?.date_ranges ?? [];
    const yaml = snapshot.files.parsed(DATE_RANGES_FILE);
    if (!yaml) return;
    ranges.forEach((range, i) => {
      let bothValid = true;
      for (const field of ['start_time', 'end_time'] as const) {
        const value = range[field];
        if (isTemplateTime(value)) continue;
        bothValid = false;
        report({
          code: 'TIME_FORMAT',
          severity: 'error',
          file: yaml.file,
          line: yaml.lineOf(['date_ranges', i, field]),
          key: `date_ranges[${i}].${field}`,
          message: `${field} "${value}" ${problem(value)} ("Invalid timestamp format")`,
          fix: FIX,
        });
      }
      if (bothValid && (parseTimestamp(range.start_time) ?? 0) >= (parseTimestamp(range.end_time) ?? 0)) {
        report({
          code: 'DATE_RANGE_ORDER',
          severity: 'error',
          file: yaml.file,
          line: yaml.lineOf(['date_ranges', i]),
          key: `date_ranges[${i}]`,
          message: `start_time ${range.start_time} is not before end_time ${range.end_time}`,
          fix: 'Make each range start before it ends (start inclusive, end exclusive).',
        });
      }
    });
  },
};
