import { afterAll, describe, expect, it } from 'vitest';
import { didYouMean, revisionProblem, validateProject } from '../../src/project/index.js';
import { edit, freshProject } from '../support/project.js';
import { cleanupTempDirs } from '../support/temp-dirs.js';

afterAll(() => cleanupTempDirs());

describe('unknown keys', () => {
  it('suggests the known key a typo was meant to be', () => {
    const keys = ['incremental_field', 'incremental_field_connector', 'table_name', 'mode'];
    expect(didYouMean('incremental_feild', keys)).toBe('incremental_field');
    expect(didYouMean('Table_Nmae', keys)).toBe('table_name');
    expect(didYouMean('mdoe', keys)).toBe('mode');
    expect(didYouMean('owner', keys)).toBeNull();
  });

  it('a typo is an error, any other unknown key a warning', () => {
    const dir = freshProject();
    edit(dir, 'config/klaviyo_datasources.yml', (t) =>
      t.replace('  - name: metrics\n', '  - name: metrics\n    owner: data-team\n    tabel_name: x\n'),
    );
    const report = validateProject(dir, { env: {} });
    const found = report.findings.filter((f) => f.code === 'UNKNOWN_KEY');
    expect(found.map((f) => [f.severity, f.key, f.fix])).toEqual([
      ['error', 'inc_datasources[5].tabel_name', "Delete 'tabel_name'."],
      ['warning', 'inc_datasources[5].owner', expect.stringContaining("Remove 'owner'")],
    ]);
  });
});

describe('revision format', () => {
  it('accepts revision dates and .pre, rejects the rest', () => {
    expect(revisionProblem('2026-07-15')).toBeNull();
    expect(revisionProblem('2026-04-15.pre')).toBeNull();
    expect(revisionProblem('2025-13-45')).toBe('is not a real date');
    expect(revisionProblem('2025-02-30')).toBe('is not a real date');
    expect(revisionProblem('latest')).toBe('is not in the YYYY-MM-DD format');
    expect(revisionProblem('2019-01-01')).toMatch(/older than Klaviyo's first API revision/);
  });
});
