import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertValid, validateProject, validateSnapshot } from '../../../src/project/validation/registry.js';
import { caught } from '../../support/errors.js';
import { edit, editedProject, freshProject } from '../../support/project.js';
import { cleanupTempDirs } from '../../support/temp-dirs.js';
import { RULE_NOW, snapshotOf } from '../../support/validation.js';

afterAll(cleanupTempDirs);

const DS = 'config/klaviyo_datasources.yml';
const INC = 'klaviyo_ingest_inc.dig';

describe('the rule registry', () => {
  it('a clean project: ok, no findings', () => {
    expect(validateSnapshot(snapshotOf(freshProject()), { now: RULE_NOW })).toEqual({
      ok: true,
      errors: 0,
      warnings: 0,
      findings: [],
    });
  });

  it('counts errors and warnings, sorts errors first then by file and line, and drops repeats', () => {
    const dir = editedProject(INC, 'limit: 3', 'limit: 10');
    edit(dir, DS, (t) => t.replace('  - name: metrics\n', '  - name: metrics\n    owner: data-team\n'));
    edit(dir, 'config/klaviyo_events_load.yml', (t) => t.replace('  skip_related_objects: true\n', ''));
    const report = validateSnapshot(snapshotOf(dir), { now: RULE_NOW });
    expect(report.findings.map((f) => `${f.severity} ${f.file} ${f.code}`)).toEqual([
      'error config/klaviyo_events_load.yml EVENTS_SKIP_RELATED',
      `error ${INC} PARALLEL_LIMIT_TOO_HIGH`,
      `warning ${DS} UNKNOWN_KEY`,
    ]);
    expect(report).toMatchObject({ ok: false, errors: 2, warnings: 1 });
  });

  it('a warning alone leaves the project ok', () => {
    const dir = editedProject(DS, '  - name: metrics\n', '  - name: metrics\n    owner: data-team\n');
    expect(validateSnapshot(snapshotOf(dir))).toMatchObject({ ok: true, errors: 0, warnings: 1 });
  });

  it('problems found while reading become findings (a missing included file)', () => {
    const dir = freshProject();
    rmSync(path.join(dir, 'config/database.yml'));
    expect(validateProject(dir, { env: {} }).findings).toContainEqual(
      expect.objectContaining({
        code: 'FILE_MISSING',
        severity: 'error',
        file: 'config/database.yml',
        message: 'file not found',
      }),
    );
  });

  it('assertValid throws the root cause first, with the count of the others', () => {
    const dir = freshProject();
    // An error in a file that sorts first, so the root cause is not first by order alone.
    edit(dir, 'config/hist_date_ranges.yml', (t) =>
      t.replace('end_time: "2023-10-01T00:00:00.000000"', 'end_time: "2023-10-01"'),
    );
    edit(dir, DS, (t) =>
      t.replace(
        'config_file: klaviyo_profiles_load.yml\n    incremental_field: updated',
        'config_file: klaviyo_profiles_load.yml\n    incremental_feild: updated',
      ),
    );
    const report = validateProject(dir, { env: {} });
    expect(report.errors).toBeGreaterThan(2);
    expect(report.findings[0]?.code).toBe('TIME_FORMAT');
    const error = caught(() => assertValid(report));
    expect(error.code).toBe('UNKNOWN_KEY');
    expect(error.kind).toBe('config');
    expect(error.file).toBe(DS);
    expect(error.key).toBe('inc_datasources[4].incremental_feild');
    expect(error.fix).toBe("Rename 'incremental_feild' to 'incremental_field'.");
    expect(error.message).toContain(
      `[UNKNOWN_KEY] (${report.errors - 1} more errors: run klaviyo-ingest validate to list them)`,
    );
  });

  it('assertValid passes a report without errors', () => {
    const dir = editedProject(DS, '  - name: metrics\n', '  - name: metrics\n    owner: data-team\n');
    expect(() => assertValid(validateProject(dir, { env: {} }))).not.toThrow();
  });
});
