import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { initProject } from '../../src/cli/commands/init.js';
import {
  DEMO_API_KEY,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../../src/simulator/index.js';
import { type Clock, systemClock } from '../../src/util/clock.js';
import { type RunProjectInput, runProject } from '../../src/workflow/run-project.js';
import type { RunReport } from '../../src/workflow/types.js';

/** A clock that reads `startMs` when created and then moves with real time (sleeps are real). */
export function clockFrom(startMs: number): Clock & { advance(ms: number): void } {
  let offset = startMs - Date.now();
  return {
    now: () => Date.now() + offset,
    sleep: systemClock.sleep,
    advance(ms: number) {
      offset += ms;
    },
  };
}

export interface Harness {
  dir: string;
  projectDir: string;
  dbPath: string;
  sim: Simulator;
  env: Record<string, string>;
  /** `runProject` on this project, simulator and database (workflow `inc` unless given). */
  run(options?: Partial<RunProjectInput>): Promise<RunReport>;
  cleanup(): Promise<void>;
}

/** A fresh `init` project, a simulator on 127.0.0.1, and a DuckDB path in a temp folder. */
export async function createHarness(options: SimulatorOptions): Promise<Harness> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ki-test-'));
  const projectDir = path.join(dir, 'ingestion');
  initProject(projectDir);
  const sim = await startSimulator({ rateLimits: 'off', ...options });
  const dbPath = path.join(dir, 'klaviyo.duckdb');
  const env = { KLAVIYO_API_KEY: DEMO_API_KEY, KLAVIYO_BASE_URL: sim.baseUrl };
  return {
    dir,
    projectDir,
    dbPath,
    sim,
    env,
    run: (extra = {}) =>
      runProject({ projectDir, workflow: 'inc', destination: `duckdb:${dbPath}`, env, ...extra }),
    async cleanup() {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs one query against a DuckDB file and returns the rows as objects (opened and closed per call). */
export async function queryDuckDB(dbPath: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(dbPath);
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
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
