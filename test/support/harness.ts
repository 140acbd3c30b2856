/**
 * A whole ingestion under test: a fresh `init` project, a simulator on 127.0.0.1 and a destination:
 * a DuckDB file in the temp folder, a schema of its own on the run's PostgreSQL server, or a
 * Parquet dataset folder in the temp folder.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import {
  DEMO_API_KEY,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../../src/simulator/index.js';
import { type RunProjectInput, runProject } from '../../src/workflow/run-project.js';
import type { RunReport } from '../../src/workflow/types.js';
import type { DestinationKind } from './destination.js';
import { postgresUrl, withPostgres } from './postgres.js';
import { freshProject } from './project.js';
import { removeTempDir } from './temp-dirs.js';

export interface Harness {
  dir: string;
  projectDir: string;
  /** The DuckDB file (DuckDB harnesses only). */
  dbPath: string;
  /** `--destination` of the runs. */
  destination: string;
  /** The project's `databases.src`: the schema the tables land in. */
  schema: string;
  sim: Simulator;
  env: Record<string, string>;
  /** `runProject` on this project, simulator and database (workflow `inc` unless given). */
  run(options?: Partial<RunProjectInput>): Promise<RunReport>;
  cleanup(): Promise<void>;
}

/**
 * A fresh `init` project, a simulator on 127.0.0.1, and a destination: a DuckDB file in the temp
 * folder, or on PostgreSQL a schema of its own (the project's `databases.src` is renamed to it).
 */
export async function createHarness(
  options: SimulatorOptions,
  kind: DestinationKind = 'duckdb',
): Promise<Harness> {
  const projectDir = freshProject('ki-test-');
  const dir = path.dirname(projectDir);
  const sim = await startSimulator({ rateLimits: 'off', ...options });
  const dbPath = path.join(dir, 'klaviyo.duckdb');
  let schema = 'klaviyo_src';
  let destination = `duckdb:${dbPath}`;
  if (kind === 'postgres') {
    schema = `ki_${randomBytes(6).toString('hex')}`;
    const file = path.join(projectDir, 'config/database.yml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('src: klaviyo_src', `src: ${schema}`));
    destination = postgresUrl();
  }
  if (kind === 'parquet') destination = `parquet:${path.join(dir, 'lake')}`;
  const env = { KLAVIYO_API_KEY: DEMO_API_KEY, KLAVIYO_BASE_URL: sim.baseUrl };
  return {
    dir,
    projectDir,
    dbPath,
    destination,
    schema,
    sim,
    env,
    run: (extra = {}) => runProject({ projectDir, workflow: 'inc', destination, env, ...extra }),
    async cleanup() {
      await sim.close();
      if (kind === 'postgres')
        await withPostgres((client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
      removeTempDir(dir);
    },
  };
}

/**
 * A harness for the enclosing `describe` (or file): made in `beforeAll`, cleaned up in `afterAll`.
 * The object returned is filled in by `beforeAll`; use it inside hooks and tests only.
 */
export function useHarness(
  options: SimulatorOptions,
  timeoutMs?: number,
  kind: DestinationKind = 'duckdb',
): Harness {
  const h = {} as Harness;
  beforeAll(async () => {
    Object.assign(h, await createHarness(options, kind));
  }, timeoutMs);
  afterAll(async () => h.cleanup?.());
  return h;
}

/** The simulator's records of a source as (id, field value in epoch ms), in index order. */
export function simValues(
  sim: Simulator,
  source: 'events' | 'profiles',
  field: string,
): { id: string; ms: number }[] {
  const values: number[] = [];
  const ids = sim.data.ids(source, (get) => {
    values.push(Number(get(field)));
    return true;
  });
  return ids.map((id, i) => ({ id, ms: values[i] as number }));
}
