/**
 * vitest globalSetup (unit and chaos projects): one PostgreSQL server per vitest run, handed to tests as
 * `inject('postgresUrl')` (read it through `postgresUrl()` in ./postgres.ts). Starting a throwaway cluster
 * takes about 2 s, so it is always started rather than only for the files that use it.
 */
import type { TestProject } from 'vitest/node';
import { startPostgres } from './postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `postgres://user:password@127.0.0.1:port/db` of the run's server. */
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startPostgres();
  // One line for the log, without the password.
  process.stderr.write(
    `[postgres] ${project.name}: ${server.description}, ready in ${(server.startupMs / 1000).toFixed(1)} s\n`,
  );
  project.provide('postgresUrl', server.url);
  return () => server.stop();
}
