import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  GLIBC_MALLOC_TUNING,
  isGlibc,
  RUNTIME_TUNING_VARIABLE,
  runtimeTuningProblem,
  V8_HEAP_FLAGS,
  wantsTunedRelaunch,
} from '../../src/cli/runtime-tuning.js';
import { runCliProcessSync, spawnCli } from '../support/cli-process.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

const dir = tempDir('ki-tuning-');
afterAll(cleanupTempDirs);

describe('wantsTunedRelaunch', () => {
  const glibc = isGlibc();

  it('relaunches run and demo on glibc, nothing else', () => {
    expect(glibc).toBe(process.platform === 'linux' && existsSync('/proc/self/maps') && mapsGlibc());
    for (const command of ['run', 'demo']) expect(wantsTunedRelaunch([command, 'inc'], {})).toBe(glibc);
    for (const args of [['init'], ['validate'], ['status'], ['simulate'], ['--help'], []]) {
      expect(wantsTunedRelaunch(args, {})).toBe(false);
    }
  });

  it('a KLAVIYO_INGEST_RUNTIME_TUNING other than off is refused by the CLI, naming it and the fix', () => {
    expect(runtimeTuningProblem({})).toBeNull();
    expect(runtimeTuningProblem({ [RUNTIME_TUNING_VARIABLE]: 'off' })).toBeNull();
    const result = runCliProcessSync(['run', 'inc'], { cwd: dir, env: { [RUNTIME_TUNING_VARIABLE]: 'yes' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('KLAVIYO_INGEST_RUNTIME_TUNING is "yes"');
    expect(result.stderr).toContain('set it to off');
  });

  it('leaves the settings of the user (and the relaunched child) alone', () => {
    for (const env of [
      { [RUNTIME_TUNING_VARIABLE]: 'off' },
      { [RUNTIME_TUNING_VARIABLE]: 'applied' },
      { MALLOC_ARENA_MAX: '2' },
      { MALLOC_MMAP_THRESHOLD_: '1048576' },
      { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' },
    ]) {
      expect(wantsTunedRelaunch(['run'], env)).toBe(false);
    }
  });
});

/** Whether this process mapped glibc's libc (the same answer isGlibc gets from the process report). */
function mapsGlibc(): boolean {
  return /\/libc\.so\.6$/m.test(readFileSync('/proc/self/maps', 'utf8'));
}

interface Launched {
  launcher: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** `klaviyo-ingest demo` in a fresh folder; 400,000 events run long enough to be killed running. */
function launchDemo(events: number, env: Record<string, string> = {}): Launched {
  const cwd = mkdtempSync(path.join(dir, 'run-'));
  const proc = spawnCli(['demo', '--events', String(events), '--profiles', '300'], {
    cwd,
    env: { KLAVIYO_API_KEY: '', KLAVIYO_BASE_URL: '', ...env },
  });
  const launcher = proc.child;
  const done = proc.done.then(({ code, signal, stderr }) => ({ code, signal, stderr }));
  return { launcher, done };
}

/** Live (not zombie) processes whose parent is `pid`, read from /proc. */
function liveChildrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === pid && state !== 'Z') children.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return children;
}

function isLive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor<T>(what: string, probe: () => T | null, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== null) return found;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whether the process has the demo's DuckDB file open (it is loading). */
function holdsDatabase(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`).endsWith('klaviyo.duckdb');
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

const environOf = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');

/** environOf, or nothing for a process that ended while we looked. */
function safeEnvironOf(pid: number): string[] {
  try {
    return environOf(pid);
  } catch {
    return [];
  }
}

describe.runIf(process.platform === 'linux')('the launcher of an ingestion (Linux /proc)', () => {
  it('on glibc the ingestion runs in a child started with the settings; the launcher exits as it did', async () => {
    const { launcher, done } = launchDemo(3000);
    const pid = launcher.pid!;
    if (isGlibc()) {
      // A child that was just forked has not exec'd yet (its environ is still empty or the launcher's):
      // wait until it runs as the relaunched CLI, which the variable marks.
      const applied = `${RUNTIME_TUNING_VARIABLE}=applied`;
      const child = await waitFor(
        'the ingestion child',
        () => liveChildrenOf(pid).find((candidate) => safeEnvironOf(candidate).includes(applied)) ?? null,
      );
      const env = environOf(child);
      for (const [name, value] of Object.entries(GLIBC_MALLOC_TUNING))
        expect(env).toContain(`${name}=${value}`);
      expect(env).toContain(`${RUNTIME_TUNING_VARIABLE}=applied`);
      const argv = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0');
      expect(argv.slice(1, 1 + V8_HEAP_FLAGS.length)).toEqual(V8_HEAP_FLAGS);
      expect(argv).toContain('demo');
      expect(environOf(pid).some((v) => v.startsWith('MALLOC_'))).toBe(false);
    }
    const result = await done;
    expect(result, result.stderr).toMatchObject({ code: 0, signal: null });
  }, 120_000);

  it('KLAVIYO_INGEST_RUNTIME_TUNING=off runs the ingestion in the process itself', async () => {
    const { launcher, done } = launchDemo(3000, { [RUNTIME_TUNING_VARIABLE]: 'off' });
    const seen = new Set<number>();
    const watch = setInterval(() => {
      for (const child of liveChildrenOf(launcher.pid!)) seen.add(child);
    }, 25);
    const result = await done;
    clearInterval(watch);
    expect(result).toMatchObject({ code: 0, signal: null });
    expect([...seen]).toEqual([]);
  }, 120_000);

  it.runIf(isGlibc())(
    'SIGKILL to the launcher stops the ingestion; SIGTERM is passed on: the child stops cleanly, both exit 143',
    async () => {
      const cases = [
        ['SIGKILL', 'starting'],
        ['SIGKILL', 'loading'],
        ['SIGTERM', 'loading'],
      ] as const;
      for (const [signal, moment] of cases) {
        const { launcher, done } = launchDemo(400_000);
        const child = await waitFor('the ingestion child', () => liveChildrenOf(launcher.pid!)[0] ?? null);
        if (moment === 'loading')
          await waitFor('the database file open', () => (holdsDatabase(child) ? true : null));
        launcher.kill(signal);
        // Without the child's watch on its launcher, the child would load all 400,000 events (~30 s).
        // SIGTERM: the child stops cleanly (the commit in flight finishes) and the launcher exits as it did.
        const limitMs = signal === 'SIGKILL' ? 5_000 : 30_000;
        const result = await Promise.race([
          done,
          new Promise<never>((_, reject) =>
            setTimeout(
              () => reject(new Error(`still running ${limitMs / 1000} s after ${signal} while ${moment}`)),
              limitMs,
            ),
          ),
        ]);
        if (signal === 'SIGKILL')
          expect(result.signal, `${signal} while ${moment}: ${result.stderr}`).toBe(signal);
        else {
          expect(result, `${signal} while ${moment}: ${result.stderr}`).toMatchObject({
            code: 143,
            signal: null,
          });
          expect(result.stderr).toContain('Stopped by SIGTERM');
        }
        // `close` comes once the child let go of the inherited stderr: it is gone by now, or very nearly.
        await waitFor(
          `the child to end after ${signal} while ${moment}`,
          () => (isLive(child) ? null : true),
          1_000,
        );
      }
    },
    120_000,
  );
});
