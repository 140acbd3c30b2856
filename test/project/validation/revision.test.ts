import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_REVISION } from '../../../src/klaviyo/revisions.js';
import { revisionProblem, revisionRules } from '../../../src/project/validation/revision.js';

/** Klaviyo's first API revision. */
const FIRST_REVISION = '2022-10-17';

import { freshProject } from '../../support/project.js';
import { cleanupTempDirs } from '../../support/temp-dirs.js';
import { ruleFindings } from '../../support/validation.js';

afterAll(cleanupTempDirs);

function withCredentials(content: object): { dir: string; display: string } {
  const dir = freshProject();
  const file = path.join(dir, 'credentials_ingestion.json');
  writeFileSync(file, JSON.stringify(content));
  chmodSync(file, 0o600);
  // The credentials reader names the file relative to the working folder.
  return { dir, display: path.relative(process.cwd(), file) };
}

describe('revision rule', () => {
  it('finds nothing without a configured revision, or with a good one', () => {
    expect(ruleFindings(revisionRules, freshProject())).toEqual([]);
    expect(ruleFindings(revisionRules, freshProject(), { env: { KLAVIYO_REVISION: '2026-07-15' } })).toEqual(
      [],
    );
    const { dir } = withCredentials({ klaviyo_api_token: 'x', klaviyo_revision_time: '2024-10-15.pre' });
    expect(ruleFindings(revisionRules, dir)).toEqual([]);
  });

  it('KLAVIYO_REVISION in the environment: the fix names the variable', () => {
    expect(ruleFindings(revisionRules, freshProject(), { env: { KLAVIYO_REVISION: 'latest' } })).toEqual([
      {
        code: 'REVISION_INVALID',
        severity: 'error',
        file: '(environment)',
        key: 'KLAVIYO_REVISION',
        message:
          'API revision "latest" is not in the YYYY-MM-DD format; Klaviyo rejects every request with it',
        fix: `Set KLAVIYO_REVISION to a Klaviyo API revision such as ${DEFAULT_REVISION} (YYYY-MM-DD), or unset it to use ${DEFAULT_REVISION}.`,
      },
    ]);
  });

  it('the credentials file: top-level and per-account revisions, each at its key', () => {
    const { dir, display } = withCredentials({
      klaviyo_api_token: 'x',
      klaviyo_revision_time: '2025-02-30',
      accounts: { '360030': { klaviyo_api_token: 'y', klaviyo_revision_time: '2019-01-01' } },
    });
    expect(ruleFindings(revisionRules, dir)).toEqual([
      {
        code: 'REVISION_INVALID',
        severity: 'error',
        file: display,
        key: 'klaviyo_revision_time',
        message: 'API revision "2025-02-30" is not a real date; Klaviyo rejects every request with it',
        fix: `Set "klaviyo_revision_time" to a Klaviyo API revision such as "${DEFAULT_REVISION}" (YYYY-MM-DD), or remove it to use ${DEFAULT_REVISION}.`,
      },
      {
        code: 'REVISION_INVALID',
        severity: 'error',
        file: display,
        key: 'accounts.360030.klaviyo_revision_time',
        message: `API revision "2019-01-01" is older than Klaviyo's first API revision (${FIRST_REVISION}); Klaviyo rejects every request with it`,
        fix: `Set "accounts.360030.klaviyo_revision_time" to a Klaviyo API revision such as "${DEFAULT_REVISION}" (YYYY-MM-DD), or remove it to use ${DEFAULT_REVISION}.`,
      },
    ]);
  });

  it('KLAVIYO_REVISION wins over the file: only its value is checked', () => {
    const { dir } = withCredentials({ klaviyo_api_token: 'x', klaviyo_revision_time: 'bad' });
    expect(ruleFindings(revisionRules, dir, { env: { KLAVIYO_REVISION: '2026-07-15' } })).toEqual([]);
  });

  it('revisionProblem: the first revision is the earliest accepted', () => {
    expect(revisionProblem(FIRST_REVISION)).toBeNull();
    expect(revisionProblem('2022-10-16')).toBe(
      `is older than Klaviyo's first API revision (${FIRST_REVISION})`,
    );
    expect(revisionProblem('2026-07-15.beta')).toBe('is not in the YYYY-MM-DD format');
  });
});
