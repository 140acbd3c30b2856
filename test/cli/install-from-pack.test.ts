/**
 * The CLI installed the way a user installs it: `npm pack`, `npm install -g` of the tarball (under a
 * temp prefix), then `klaviyo-ingest demo` from an unrelated folder.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli-process.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

afterAll(cleanupTempDirs);

/** This process's environment without the npm_* variables of an enclosing `npm test`. */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
}

function sh(command: string, args: string[], cwd: string, env = npmEnv()) {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

const SOURCES = [
  ['events', 'klaviyo_events'],
  ['templates', 'klaviyo_email_templates'],
  ['campaigns', 'klaviyo_campaigns'],
  ['lists', 'klaviyo_lists'],
  ['profiles', 'klaviyo_profiles'],
  ['metrics', 'klaviyo_metric_data'],
] as const;

describe('install as a command', () => {
  it('npm pack, npm install -g of the tarball, klaviyo-ingest demo from any folder', () => {
    expect(existsSync(path.join(repoRoot, 'dist/src/cli/main.js')), 'run `npm run build` first').toBe(true);
    const work = tempDir('ki-install-');
    // The package as a checkout packs it, with the build already done (npm test builds first): the
    // copy's `build` does nothing, so packing neither waits for tsc nor rewrites the dist/ other
    // tests are running.
    const checkout = path.join(work, 'checkout');
    for (const entry of ['README.md', 'bin', 'scripts', 'dist/src']) {
      cpSync(path.join(repoRoot, entry), path.join(checkout, entry), { recursive: true });
    }
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    pkg.scripts.build = 'node -e 0';
    const manifest = `${JSON.stringify(pkg, null, 2)}\n`;
    writeFileSync(path.join(checkout, 'package.json'), manifest);

    const pack = sh('npm', ['pack', '--pack-destination', work], checkout);
    expect(pack.status, pack.stderr).toBe(0);
    // postpack put package.json back as it was.
    expect(readFileSync(path.join(checkout, 'package.json'), 'utf8')).toBe(manifest);
    expect(existsSync(path.join(checkout, 'package.json.prepack'))).toBe(false);
    const tarball = readdirSync(work).find((f) => /^klaviyo-ingest-.*\.tgz$/.test(f));
    expect(tarball).toBeDefined();
    const tgz = path.join(work, tarball!);

    const listing = sh('tar', ['tzf', tgz], work).stdout.split('\n').filter(Boolean);
    expect(listing).toContain('package/bin/klaviyo-ingest.js');
    expect(listing).toContain('package/dist/src/cli/main.js');
    expect(listing).toContain('package/dist/src/cli/runtime-tuning.js');
    expect(
      listing.filter((f) => !/^package\/(dist\/src\/|bin\/|package\.json$|README\.md$)/.test(f)),
    ).toEqual([]);
    // No install script: `prepare` (the build of a checkout) stays out of the tarball.
    const packed = JSON.parse(sh('tar', ['xzf', tgz, '-O', 'package/package.json'], work).stdout);
    expect(packed.scripts.prepare).toBeUndefined();

    const prefix = path.join(work, 'prefix');
    // npm creates it too, but not before the install-script check: with the folder there, a failed
    // check reads as ESTRICTALLOWSCRIPTS rather than ENOENT.
    mkdirSync(path.join(prefix, 'lib'), { recursive: true });
    const install = sh(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        tgz,
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        // An install script not allowed by the user would fail the install here instead of warning.
        '--strict-allow-scripts',
      ],
      work,
    );
    expect(install.status, install.stderr).toBe(0);
    expect(install.stderr).not.toContain('install-scripts');

    const cwd = path.join(work, 'elsewhere');
    mkdirSync(cwd);
    const db = path.join(work, 'x.duckdb');
    const demo = sh(
      path.join(prefix, 'bin/klaviyo-ingest'),
      ['demo', '--db', db, '--events', '3000', '--profiles', '300'],
      cwd,
      { ...npmEnv(), KLAVIYO_API_KEY: '', KLAVIYO_BASE_URL: '' },
    );
    expect(demo.status, demo.stderr).toBe(0);
    for (const [source, table] of SOURCES) {
      expect(demo.stdout).toMatch(new RegExp(`^${source}\\s+${table}\\s+SUCCESS\\s`, 'm'));
    }
    expect(demo.stdout).toContain('klaviyo_ingest_inc.dig: 6 of 6 sources ok');
    expect(demo.stdout).toContain(`Loaded into ${db}`);
    expect(existsSync(db)).toBe(true);
    expect(readdirSync(cwd)).toEqual([]);
  }, 150_000);
});
