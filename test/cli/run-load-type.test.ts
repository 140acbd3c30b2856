import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-in-process.js';
import { edit, freshProject } from '../support/project.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

afterAll(cleanupTempDirs);

const EVENTS_LOAD = 'config/klaviyo_events_load.yml';

describe('klaviyo-ingest run with a load config whose in.type is not klaviyo', () => {
  it.each([
    [
      'a typo',
      '  type: klaviyoo\n',
      'in.type is "klaviyoo"; klaviyo-ingest runs in.type: klaviyo loads only',
    ],
    ['no type', '', 'load config sets no in.type; klaviyo-ingest runs in.type: klaviyo loads only'],
  ])('refuses %s: a config error (exit 2), no request, nothing written', async (_what, typeLine, message) => {
    const dir = freshProject();
    edit(dir, EVENTS_LOAD, (t) => t.replace('  type: klaviyo\n', typeLine));
    const out = tempDir('ki-run-type-');
    const db = path.join(out, 'x.duckdb');
    // No API key and an unreachable base URL: the run must stop before it needs either.
    const saved = { key: process.env.KLAVIYO_API_KEY, url: process.env.KLAVIYO_BASE_URL };
    delete process.env.KLAVIYO_API_KEY;
    process.env.KLAVIYO_BASE_URL = 'http://127.0.0.1:9';
    try {
      const result = await runCli(['run', 'inc', '--project', dir, '--destination', `duckdb:${db}`]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stdout).toBe('');
      const line = typeLine ? 'line 2' : 'line 1';
      expect(result.stderr).toBe(
        `klaviyo-ingest: ${EVENTS_LOAD}, ${line}, key 'in.type': ${message} [LOAD_TYPE]\n` +
          `  fix: Set in.type: klaviyo in ${EVENTS_LOAD}.\n`,
      );
      expect(existsSync(db)).toBe(false);
      expect(readdirSync(out)).toEqual([]);
    } finally {
      if (saved.key === undefined) delete process.env.KLAVIYO_API_KEY;
      else process.env.KLAVIYO_API_KEY = saved.key;
      if (saved.url === undefined) delete process.env.KLAVIYO_BASE_URL;
      else process.env.KLAVIYO_BASE_URL = saved.url;
    }
  });
});
