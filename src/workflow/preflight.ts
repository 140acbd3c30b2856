import { getSource } from '../sources/registry.js';
import type { DatasourceSpec, WorkflowPlan } from './types.js';

/**
 * What a run checks before it opens the destination, so a configuration problem writes nothing (not
 * even a STARTED row or a new database file): every selected datasource's load config can be filled
 * and read, names a stream we know, and has an API key for its `td_authentication_id`. Throws the
 * first problem (a config error, exit 2).
 */
export async function checkBeforeWriting(
  plan: WorkflowPlan,
  datasources: readonly DatasourceSpec[],
  resolveCredentials: (authenticationId: string | number | null | undefined) => unknown,
): Promise<void> {
  for (const datasource of datasources) {
    // The window does not change which account or stream a load config names.
    const config = await plan.loadConfig(datasource, { start_time: '', end_time: '' });
    getSource(config.in.data_source);
    resolveCredentials(config.in.td_authentication_id);
  }
}
