import { DEFAULT_REVISION } from '../klaviyo/revisions.js';
import { getSource } from '../sources/registry.js';
import { formatTemplateTime } from '../util/timestamps.js';
import { sourceParamsFrom } from './source-params.js';
import type { DatasourceSpec, WorkflowPlan } from './types.js';
import { incrementalColumn } from './window.js';

/**
 * What a run checks before it opens the destination, so a configuration problem writes nothing (not
 * even a STARTED row or a new database file): every selected datasource's load config can be filled
 * (with its first window: default_start_time to now) and read, names a stream we know, has an API key
 * for its `td_authentication_id`, and plans into requests. Throws the first problem (a config error,
 * exit 2).
 */
export async function checkBeforeWriting(
  plan: WorkflowPlan,
  datasources: readonly DatasourceSpec[],
  resolveCredentials: (authenticationId: string | number | null | undefined) => { revision: string | null },
  nowMs: number,
): Promise<void> {
  for (const datasource of datasources) {
    const start = incrementalColumn(datasource) ? (datasource.default_start_time ?? '') : '';
    const config = await plan.loadConfig(datasource, {
      start_time: start,
      end_time: formatTemplateTime(nowMs),
    });
    const source = getSource(config.in.data_source);
    const { revision } = resolveCredentials(config.in.td_authentication_id);
    source.plan(sourceParamsFrom(config, revision ?? DEFAULT_REVISION));
  }
}
