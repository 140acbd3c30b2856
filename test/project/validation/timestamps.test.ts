import { afterAll, describe, expect, it } from 'vitest';
import { timestampRules } from '../../../src/project/validation/timestamps.js';
import { edit, editedProject, freshProject } from '../../support/project.js';
import { cleanupTempDirs } from '../../support/temp-dirs.js';
import { findingAt, ruleFindings } from '../../support/validation.js';

afterAll(cleanupTempDirs);

const DS = 'config/klaviyo_datasources.yml';
const RANGES = 'config/hist_date_ranges.yml';
const FIX =
  'Write the time as "YYYY-MM-DDTHH:MM:SS.000000": 6 decimals, a T separator, no Z (e.g. "2025-09-01T00:00:00.000000").';
const INC_START = 'default_start_time: "2025-09-01T00:00:00.000000"';

describe('timestamp rules', () => {
  it('find nothing in the project init writes', () => {
    expect(ruleFindings(timestampRules, freshProject())).toEqual([]);
  });

  it.each([
    ['2025-09-01T00:00:00Z', 'has a zone suffix'],
    ['2025-09-01T00:00:00.000000+02:00', 'has a zone suffix'],
    ['2025-09-01', "lacks the 'T' separator"],
    ['2025-09-01 00:00:00.000000', "lacks the 'T' separator"],
    ['2025-09-01T00:00:00.000', 'does not have 6 decimals'],
    ['2025-13-01T00:00:00.000000', 'is not a valid date and time'],
  ])('default_start_time "%s" %s: TIME_FORMAT at the key and its line', (value, problem) => {
    const dir = editedProject(DS, INC_START, `default_start_time: "${value}"`);
    expect(ruleFindings(timestampRules, dir)).toEqual([
      findingAt(dir, DS, `default_start_time: "${value}"`, {
        code: 'TIME_FORMAT',
        key: 'inc_datasources[0].default_start_time',
        message: `default_start_time "${value}" ${problem} ("Invalid timestamp format")`,
        fix: FIX,
      }),
    ]);
  });

  it('an empty default_start_time is not checked (a full load has none)', () => {
    const dir = editedProject(DS, INC_START, 'default_start_time:');
    expect(ruleFindings(timestampRules, dir)).toEqual([]);
  });

  it('a date range time in the wrong format: TIME_FORMAT, and no order check for that range', () => {
    const dir = freshProject();
    edit(dir, RANGES, (t) =>
      t.replace('end_time: "2023-10-01T00:00:00.000000"', 'end_time: "2023-08-01 00:00:00.000000"'),
    );
    expect(ruleFindings(timestampRules, dir)).toEqual([
      findingAt(dir, RANGES, 'end_time: "2023-08-01 00:00:00.000000"', {
        code: 'TIME_FORMAT',
        key: 'date_ranges[0].end_time',
        message:
          'end_time "2023-08-01 00:00:00.000000" lacks the \'T\' separator ("Invalid timestamp format")',
        fix: FIX,
      }),
    ]);
  });

  it.each([
    ['ends before it starts', '2023-08-01T00:00:00.000000'],
    ['ends when it starts (end is exclusive)', '2023-09-01T00:00:00.000000'],
  ])('a date range that %s: DATE_RANGE_ORDER on the range', (_, end) => {
    const dir = editedProject(RANGES, 'end_time: "2023-10-01T00:00:00.000000"', `end_time: "${end}"`);
    expect(ruleFindings(timestampRules, dir)).toEqual([
      findingAt(dir, RANGES, '- start_time: "2023-09-01T00:00:00.000000"', {
        code: 'DATE_RANGE_ORDER',
        key: 'date_ranges[0]',
        message: `start_time 2023-09-01T00:00:00.000000 is not before end_time ${end}`,
        fix: 'Make each range start before it ends (start inclusive, end exclusive).',
      }),
    ]);
  });
});
