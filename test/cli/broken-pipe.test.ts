/** The built CLI, with the reader of its stdout or stderr gone: it ends quietly (141, as SIGPIPE would), no stack trace. */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BROKEN_PIPE_EXIT_CODE } from '../../src/cli/broken-pipe.js';
import { repoRoot } from '../support/cli-process.js';
import { freshProject } from '../support/project.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

afterAll(cleanupTempDirs);

const BIN = path.join(repoRoot, 'bin/klaviyo-ingest.js');
const STACK = /\n\s+at |EPIPE|Unhandled 'error'/;

/** The CLI with one of its output pipes closed by the reader before it writes anything. */
function withClosedPipe(
  closed: 'stdout' | 'stderr',
  argv: string[],
): Promise<{ code: number | null; signal: NodeJS.Signals | null; other: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], {
      cwd: tempDir('ki-pipe-cwd-'),
      env: { ...process.env, KLAVIYO_API_KEY: '', KLAVIYO_BASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Our end of the pipe goes away now; the CLI takes far longer than that to start and write.
    child[closed].destroy();
    let other = '';
    child[closed === 'stdout' ? 'stderr' : 'stdout'].on('data', (d: Buffer) => {
      other += d.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, other }));
  });
}

describe('a closed stdout or stderr (EPIPE)', () => {
  it('`init DIR --force | head -1` prints one line and no stack trace', () => {
    const dir = freshProject();
    const result = spawnSync(
      'bash',
      [
        '-c',
        `"${process.execPath}" "${BIN}" init "${dir}" --force | head -1; echo "status \${PIPESTATUS[0]}" >&2`,
      ],
      { encoding: 'utf8' },
    );
    expect(result.stdout).toBe(`Wrote 16 files to ${dir}:\n`);
    // head may exit before or after the CLI's last write: 141 (the pipe broke) or 0 (all was written first).
    expect(result.stderr).toMatch(new RegExp(`^status (0|${BROKEN_PIPE_EXIT_CODE})\\n$`));
  });

  it.each([
    ['init', (dir: string) => ['init', dir, '--force']],
    ['validate', (dir: string) => ['validate', dir]],
    ['--help', () => ['--help']],
    ['demo --help (through the relaunched child)', () => ['demo', '--help']],
  ])('%s with stdout closed: exit 141, nothing on stderr', async (_name, args) => {
    const result = await withClosedPipe('stdout', args(freshProject()));
    expect(result.other).not.toMatch(STACK);
    expect(result.other).toBe('');
    expect(result.signal).toBeNull();
    expect(result.code).toBe(BROKEN_PIPE_EXIT_CODE);
  });

  it('an error message to a closed stderr ends quietly too (141)', async () => {
    const result = await withClosedPipe('stderr', ['validate', path.join(tempDir(), 'missing')]);
    expect(result.other).toBe('');
    expect(result.code).toBe(BROKEN_PIPE_EXIT_CODE);
  });
});
