import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, test, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { DEMO_API_KEY } from '../../src/simulator/index.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';
import { call } from './helpers.js';

afterAll(cleanupTempDirs);

test('klaviyo-ingest simulate prints the base URL and demo key, serves, logs, stops on SIGTERM', async () => {
  const logFile = join(tempDir('sim-'), 'log.jsonl');
  let out = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  const errWrite = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const before = new Set(process.listeners('SIGTERM'));
  const done = main([
    'simulate',
    '--profiles',
    '20',
    '--events',
    '200',
    '--seed',
    '7',
    '--log-file',
    logFile,
  ]);
  try {
    await vi.waitFor(() => expect(out.split('\n').length).toBeGreaterThanOrEqual(3), { timeout: 5000 });
  } finally {
    write.mockRestore();
  }
  const [url, key] = out.split('\n');
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(key).toBe(DEMO_API_KEY);
  const r = await call({ baseUrl: url as string }, '/api/profiles', { 'page[size]': '100' });
  expect(r.body.data).toHaveLength(20);
  // Deliver SIGTERM to the command's own handler only (not the test runner's).
  for (const l of process.listeners('SIGTERM')) if (!before.has(l)) (l as () => void)();
  expect(await done).toBe(0);
  errWrite.mockRestore();
  const entries = readFileSync(logFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(entries[0]).toMatchObject({ path: '/api/profiles', status: 200 });
});

test('simulate rejects a bad --faults spec as a usage error', async () => {
  const errWrite = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    expect(await main(['simulate', '--faults', 'teapot'])).toBe(2);
  } finally {
    errWrite.mockRestore();
  }
});
