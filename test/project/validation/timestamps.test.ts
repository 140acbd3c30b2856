import { afterAll, describe } from 'vitest';
import { timestampRules } from '../../../src/project/validation/timestamps.js';
import { cleanupTempDirs } from '../../support/temp-dirs.js';
import { type RuleCase, testRuleCases } from '../../support/validation.js';

afterAll(cleanupTempDirs);

const DS = 'config/klaviyo_datasources.yml';
const RANGES = 'config/hist_date_ranges.yml';
const FIX =
  'Write the time as "YYYY-MM-DDTHH:MM:SS.000000": 6 decimals, a T separator, no Z (e.g. "2025-09-01T00:00:00.000000").';
const INC_START = 'default_start_time: "2025-09-01T00:00:00.000000"';

const RANGE_END = 'end_time: "2023-10-01T00:00:00.000000"';

const BAD_START_TIMES: [value: string, problem: string][] = [
  ['2025-09-01T00:00:00Z', 'has a zone suffix'],
  ['2025-09-01T00:00:00.000000+02:00', 'has a zone suffix'],
  ['2025-09-01', "lacks the 'T' separator"],
  ['2025-09-01 00:00:00.000000', "lacks the 'T' separator"],
  ['2025-09-01T00:00:00.000', 'does not have 6 decimals'],
  ['2025-13-01T00:00:00.000000', 'is not a valid date and time'],
];

const UNORDERED_RANGES: [problem: string, end: string][] = [
  ['ends before it starts', '2023-08-01T00:00:00.000000'],
  ['ends when it starts (end is exclusive)', '2023-09-01T00:00:00.000000'],
];

/** Each case: a fresh project, these edits, exactly these findings. */
const CASES: RuleCase[] = [
  { name: 'find nothing in the project init writes', edits: [], findings: [] },
  ...BAD_START_TIMES.map(
    ([value, problem]): RuleCase => ({
      name: `default_start_time "${value}" ${problem}: TIME_FORMAT at the key and its line`,
      edits: [{ file: DS, from: INC_START, to: `default_start_time: "${value}"` }],
      findings: [
        {
          file: DS,
          at: `default_start_time: "${value}"`,
          code: 'TIME_FORMAT',
          key: 'inc_datasources[0].default_start_time',
          message: `default_start_time "${value}" ${problem} ("Invalid timestamp format")`,
          fix: FIX,
        },
      ],
    }),
  ),
  {
    name: 'an empty default_start_time is not checked (a full load has none)',
    edits: [{ file: DS, from: INC_START, to: 'default_start_time:' }],
    findings: [],
  },
  {
    name: 'a date range time in the wrong format: TIME_FORMAT, and no order check for that range',
    edits: [{ file: RANGES, from: RANGE_END, to: 'end_time: "2023-08-01 00:00:00.000000"' }],
    findings: [
      {
        file: RANGES,
        at: 'end_time: "2023-08-01 00:00:00.000000"',
        code: 'TIME_FORMAT',
        key: 'date_ranges[0].end_time',
        message:
          'end_time "2023-08-01 00:00:00.000000" lacks the \'T\' separator ("Invalid timestamp format")',
        fix: FIX,
      },
    ],
  },
  ...UNORDERED_RANGES.map(
    ([problem, end]): RuleCase => ({
      name: `a date range that ${problem}: DATE_RANGE_ORDER on the range`,
      edits: [{ file: RANGES, from: RANGE_END, to: `end_time: "${end}"` }],
      findings: [
        {
          file: RANGES,
          at: '- start_time: "2023-09-01T00:00:00.000000"',
          code: 'DATE_RANGE_ORDER',
          key: 'date_ranges[0]',
          message: `start_time 2023-09-01T00:00:00.000000 is not before end_time ${end}`,
          fix: 'Make each range start before it ends (start inclusive, end exclusive).',
        },
      ],
    }),
  ),
];

describe('timestamp rules', () => {
  testRuleCases(timestampRules, CASES);
});
