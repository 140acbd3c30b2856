import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gitignoreIgnores, secretRules } from '../../../src/project/validation/secrets.js';
import { edit, freshProject } from '../../support/project.js';
import { cleanupTempDirs, tempDir } from '../../support/temp-dirs.js';
import { findingAt, lineOf, ruleFindings } from '../../support/validation.js';

afterAll(cleanupTempDirs);

const CREDENTIALS = 'credentials_ingestion.json';
const KEY_FIX =
  'Move the key to credentials_ingestion.json (git-ignored) or the KLAVIYO_API_KEY environment variable, and rotate it if it was committed.';

function writeCredentials(dir: string, content: object, mode = 0o600): void {
  const file = path.join(dir, CREDENTIALS);
  writeFileSync(file, JSON.stringify(content));
  chmodSync(file, mode);
}

describe('secret rules', () => {
  it('find nothing in the project init writes, nor with a git-ignored private credentials file', () => {
    const dir = freshProject();
    expect(ruleFindings(secretRules, dir)).toEqual([]);
    writeCredentials(dir, { klaviyo_api_token: 'pk_abcdefghijklmnopqrstuvwx123' });
    expect(ruleFindings(secretRules, dir)).toEqual([]);
  });

  it('API_KEY_IN_PROJECT: a pk_ key in a project file, at its line, value not shown', () => {
    const dir = freshProject();
    edit(dir, 'config/database.yml', (t) => `${t}# pk_abcdefghijklmnopqrstuvwx123\n`);
    const findings = ruleFindings(secretRules, dir);
    expect(findings).toEqual([
      findingAt(dir, 'config/database.yml', 'pk_abcdefghijklmnopqrstuvwx123', {
        code: 'API_KEY_IN_PROJECT',
        message: 'config/database.yml contains a Klaviyo API key (value hidden)',
        fix: KEY_FIX,
      }),
    ]);
    expect(JSON.stringify(findings)).not.toContain('pk_abcdefghijklmnopqrstuvwx123');
  });

  it('a key the credentials file holds, found in a workflow file even without the pk_ shape', () => {
    const dir = freshProject();
    writeCredentials(dir, { klaviyo_api_token: 'my-very-secret-token-42' });
    edit(dir, 'klaviyo_ingest_inc.dig', (t) => `${t}# my-very-secret-token-42\n`);
    expect(ruleFindings(secretRules, dir)).toEqual([
      expect.objectContaining({
        code: 'API_KEY_IN_PROJECT',
        file: 'klaviyo_ingest_inc.dig',
        line: lineOf(dir, 'klaviyo_ingest_inc.dig', '# my-very-secret-token-42'),
        message: 'klaviyo_ingest_inc.dig contains a Klaviyo API key (value hidden)',
      }),
    ]);
  });

  it('a klaviyo_api_token assignment counts, except in an .example file', () => {
    const dir = freshProject();
    writeFileSync(path.join(dir, 'config/secrets.yml'), 'other: 1\nklaviyo_api_token: "abc"\n');
    expect(ruleFindings(secretRules, dir).map((f) => [f.code, f.file, f.line])).toEqual([
      ['API_KEY_IN_PROJECT', 'config/secrets.yml', 2],
    ]);
    rmSync(path.join(dir, 'config/secrets.yml'));
    writeFileSync(path.join(dir, 'config/secrets.yml.example'), 'klaviyo_api_token: "abc"\n');
    expect(ruleFindings(secretRules, dir)).toEqual([]);
  });

  it('CREDENTIALS_NOT_IGNORED: no .gitignore names the credentials file', () => {
    const dir = freshProject();
    rmSync(path.join(dir, '.gitignore'));
    writeCredentials(dir, { klaviyo_api_token: 'not-a-real-key-0001' });
    expect(ruleFindings(secretRules, dir)).toEqual([
      {
        code: 'CREDENTIALS_NOT_IGNORED',
        severity: 'error',
        file: CREDENTIALS,
        message:
          'credentials_ingestion.json is not ignored by a .gitignore in the project or its parent folder',
        fix: 'Add a line "credentials_ingestion.json" to .gitignore.',
      },
    ]);
    // A .gitignore in the parent folder is enough.
    writeFileSync(path.join(path.dirname(dir), '.gitignore'), '*.json\n');
    expect(ruleFindings(secretRules, dir)).toEqual([]);
  });

  it('CREDENTIALS_PERMISSIONS: a credentials file others can read is a warning with chmod', () => {
    const dir = freshProject();
    writeCredentials(dir, { klaviyo_api_token: 'not-a-real-key-0002' }, 0o644);
    expect(ruleFindings(secretRules, dir)).toEqual([
      expect.objectContaining({
        code: 'CREDENTIALS_PERMISSIONS',
        severity: 'warning',
        file: CREDENTIALS,
        message: expect.stringContaining('is readable by other users (mode 644)'),
        fix: 'chmod 600 credentials_ingestion.json',
      }),
    ]);
  });
});

describe('gitignoreIgnores', () => {
  const dir = tempDir('ki-gitignore-');
  mkdirSync(path.join(dir, 'a/b'), { recursive: true });
  const ignores = (gitignore: string, rel: string) => {
    writeFileSync(path.join(dir, '.gitignore'), gitignore);
    return gitignoreIgnores(dir, path.join(dir, rel));
  };

  it('matches a name in any folder, an anchored path only from the root', () => {
    expect(ignores('credentials_ingestion.json\n', 'a/b/credentials_ingestion.json')).toBe(true);
    expect(ignores('/a/credentials_ingestion.json\n', 'a/credentials_ingestion.json')).toBe(true);
    expect(ignores('/a/credentials_ingestion.json\n', 'a/b/credentials_ingestion.json')).toBe(false);
  });

  it('understands *, **, comments and a later ! that un-ignores', () => {
    expect(ignores('# secrets\n*.json\n', 'x.json')).toBe(true);
    expect(ignores('**/b/*.json\n', 'a/b/x.json')).toBe(true);
    expect(ignores('*.json\n!x.json\n', 'x.json')).toBe(false);
    expect(ignores('*.yml\n', 'x.json')).toBe(false);
  });

  it('ignores nothing without a .gitignore or outside its folder', () => {
    rmSync(path.join(dir, '.gitignore'), { force: true });
    expect(gitignoreIgnores(dir, path.join(dir, 'x.json'))).toBe(false);
    writeFileSync(path.join(dir, 'a/.gitignore'), '*\n');
    expect(gitignoreIgnores(path.join(dir, 'a'), path.join(dir, 'a/x.json'))).toBe(true);
    expect(gitignoreIgnores(path.join(dir, 'a'), path.join(dir, 'x.json'))).toBe(false);
  });
});
