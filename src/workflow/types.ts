import type { RateBudget } from '../klaviyo/rate-limiter.js';
import type { PageFetcher } from '../sources/types.js';
import type { Clock } from '../util/clock.js';
import type { Destination, WriteMode } from '../warehouse/destination.js';
import type { RunEventSink } from './run-events.js';

/** One entry of `inc_datasources` / `hist_datasources`, as the runner needs it. */
export interface DatasourceSpec {
  name: string;
  table_name: string;
  config_file: string;
  incremental_field: string | null;
  incremental_field_connector: string | null;
  default_start_time: string | null;
  workflow_name: string;
  /** `lookback: 7d`: re-read this trailing period before the table's max (late events), in ms. */
  lookbackMs: number;
}

/** The `in:` section of a filled load config. */
export interface LoadInput {
  type: string;
  data_source: string;
  td_authentication_id?: string | number | null;
  incremental?: boolean | null;
  start_time?: string | null;
  end_time?: string | null;
  incremental_field?: string | null;
  skip_related_objects?: boolean | null;
  additional_fields?: string[] | string | null;
  conversion_metric_id?: string | null;
  /** The conversion metric by name, looked up when the report runs. */
  conversion_metric?: string | null;
}

export interface LoadedConfig {
  /** Path of the load config, for error messages. */
  file: string;
  in: LoadInput;
  mode: WriteMode;
}

/** What the runner needs from a project + workflow file; built from `src/project` by the CLI. */
export interface WorkflowPlan {
  /** The .dig file, e.g. `klaviyo_ingest_inc.dig`. */
  file: string;
  /** `databases.src`: the schema every table and the ingestion log live in. */
  schema: string;
  /** `_parallel.limit` of the for_each (1 when absent: Digdag then runs the iterations one by one). */
  parallelLimit: number;
  datasources: DatasourceSpec[];
  /** The `_error` task's fixed parameters, when the .dig has one. */
  errorLog: { source_name: string; workflow_name: string; error_message: string } | null;
  /** Fill `${datasource.*}` / `${td.last_results.*}` into the datasource's load config and parse it. */
  loadConfig(
    datasource: DatasourceSpec,
    lastResults: { start_time: string; end_time: string },
  ): Promise<LoadedConfig>;
}

/** An API client bound to one account (API key + revision). */
export interface AccountFetcher extends PageFetcher {
  readonly revision: string;
  /** One POST request (reports), paced and retried like the pages. */
  post(path: string, body: unknown, options?: { signal?: AbortSignal }): Promise<unknown>;
  /** The URL (with query) a request would go to, for --dry-run. */
  describeRequest(path: string, query: Record<string, string>): string;
  /** The rate-limit budget of a stream's requests, for planning them; absent: nothing is known. */
  budget?(path: string, query: Record<string, string>): RateBudget;
}

export interface RunOptions {
  /** Only these datasources (by `name` or `table_name`). */
  sources?: string[];
  /** Override the computed window ("test with small date ranges first"); in the template format by the time a run starts. */
  start?: string;
  end?: string;
  dryRun?: boolean;
  /** Commit appends in window order at least every N rows / T ms (a crash costs at most that tail). */
  checkpoint?: { rows: number; ms: number };
  /** Requests in flight per source (default by the endpoint's rate tier). */
  concurrency?: number;
  /** Aborted (with a `StopRequest`) to stop the run cleanly: see run-stop.ts. */
  signal?: AbortSignal;
}

export interface RunDeps {
  /** Null only for a --dry-run against a database file that does not exist yet. */
  destination: Destination | null;
  /** The client for a load config's td_authentication_id (several Klaviyo accounts per project). */
  fetcherFor(authenticationId: string | number | null | undefined): AccountFetcher;
  clock: Clock;
  /** Progress lines (already redacted by the caller's sink). */
  progress?: (line: string) => void;
  /** A unique id for this run (job ids are derived from it). */
  runId: string;
  /** What happens while the run runs (progress displays, JSON logs, the run-state file). */
  events?: RunEventSink;
}

/** SKIPPED: never started, because the run was stopped first. */
export type SourceStatus = 'SUCCESS' | 'ERROR' | 'DRY_RUN' | 'SKIPPED';

export interface SourceReport {
  name: string;
  table: string;
  status: SourceStatus;
  startTime: string;
  endTime: string;
  records: number;
  duplicatesSkipped: number;
  /** `snapshot` mode: rows newly marked deleted upstream (`_deleted_at`). */
  markedDeleted?: number;
  pages: number;
  /** Time slices the window was fetched in (1 when it was small or could not be sliced). */
  slices: number;
  durationMs: number;
  jobId: string;
  /** --dry-run: the first request of each stream, key redacted. */
  requests?: string[];
  /** --dry-run: the headers those requests carry, the key shown as `***`. */
  requestHeaders?: Record<string, string>;
  error?: string;
  /** A load that failed or was stopped: rows it committed before (checkpoints); they stay. */
  committed?: number;
  /** ... and the table's window max after them, from which a rerun resumes. */
  committedUpTo?: string | null;
  /**
   * Periods between default_start_time and this window's start that no load covered (a test run's
   * --start/--end ahead of the data): each with the command that back-fills it once.
   */
  gaps?: { start: string; end: string; command?: string }[];
}

export interface RunReport {
  workflow: string;
  ok: boolean;
  sources: SourceReport[];
  durationMs: number;
  /** Why the run stopped early: a signal (`SIGINT`, `SIGTERM`) or the code of a failure every source would meet. */
  stoppedBy?: string;
  /** Tables whose last run never finished (killed), closed by this run with an ERROR row. */
  interrupted?: string[];
}
