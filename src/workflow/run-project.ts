import { randomBytes } from 'node:crypto';
import {
  createKlaviyoClient,
  type KlaviyoClient,
  type KlaviyoClientEvent,
  type RateLimiterRegistry,
} from '../klaviyo/index.js';
import { DEFAULT_REVISION, isRetiredRevision } from '../klaviyo/revisions.js';
import { assertValid, loadProject, validateProject } from '../project/index.js';
import { type Clock, systemClock } from '../util/clock.js';
import type { Destination } from '../warehouse/destination.js';
import { destinationUrlFrom, missingDestination, openDestination } from '../warehouse/open-destination.js';
import { addBackfillCommands } from './backfill-command.js';
import { checkBeforeWriting } from './preflight.js';
import { planFromProject, resolveWorkflow } from './project-plan.js';
import { emitter, type RunEmitter, type RunEventSink } from './run-events.js';
import { runWorkflow, selectDatasources } from './run-workflow.js';
import type { AccountFetcher, RunOptions, RunReport } from './types.js';
import { normaliseWindowOverrides } from './window.js';

export interface RunProjectInput extends RunOptions {
  projectDir: string;
  /** `inc`, `hist`, a workflow name or a path to a .dig file. */
  workflow: string;
  /** `--destination`; undefined = `duckdb:./klaviyo.duckdb`. */
  destination?: string | undefined;
  env?: Readonly<Record<string, string | undefined>>;
  clock?: Clock;
  /** Klaviyo API base URL (default: env KLAVIYO_BASE_URL, else https://a.klaviyo.com). */
  baseUrl?: string | undefined;
  /** Share rate limiters with other runs in this process (tests, demo). */
  limiter?: RateLimiterRegistry;
  progress?: (line: string) => void;
  warn?: (line: string) => void;
  /** Print every request, retry and throttle (URLs and messages are redacted by the client). */
  verbose?: boolean;
  /** Klaviyo client timeout per request (headers, and each pause in the body); default 60 s. */
  timeoutMs?: number | undefined;
  /** Progress, retries, throttles, commits and outcomes as they happen (run-events.ts). */
  events?: RunEventSink;
  /** The run's id (default: a new one, `ki-<UTC stamp>-<random>`). */
  runId?: string;
}

function describeClientEvent(event: KlaviyoClientEvent): string {
  switch (event.type) {
    case 'request':
      return `-> ${event.method} ${event.url} (attempt ${event.attempt}, queued ${event.queuedMs} ms)`;
    case 'response':
      return `<- ${event.status} ${event.method} ${event.url} (${event.bytes} bytes, ${event.durationMs} ms)`;
    case 'retry':
      return `retry ${event.method} ${event.url} in ${event.delayMs} ms: ${event.reason}`;
    case 'throttle':
      return `throttled ${event.endpoint} for ${event.delayMs} ms: ${event.reason}`;
  }
}

/** A client's retries and throttles as run events (requests and responses are only for --verbose). */
function clientEventToRunEvent(event: KlaviyoClientEvent, events: RunEmitter): void {
  if (event.type === 'retry') {
    const { endpoint, attempt, delayMs, reason } = event;
    events.emit({ type: 'retry', endpoint, attempt, delayMs, reason });
  } else if (event.type === 'throttle') {
    const { endpoint, delayMs, reason } = event;
    events.emit({ type: 'throttle', endpoint, delayMs, reason });
  }
}

export function newRunId(nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `ki-${stamp}-${randomBytes(3).toString('hex')}`;
}

/**
 * `klaviyo-ingest run`: validate the project (nothing is touched when it has errors), resolve the
 * workflow, open the destination, run, close. Returns the report; the caller decides the exit code.
 */
export async function runProject(input: RunProjectInput): Promise<RunReport> {
  const overrides = normaliseWindowOverrides(input.start, input.end);
  const env = input.env ?? process.env;
  const clock = input.clock ?? systemClock;
  const warn = input.warn ?? (() => undefined);
  const events = emitter(input.events, () => clock.now());
  const validation = validateProject(input.projectDir, { env });
  assertValid(validation);
  for (const finding of validation.findings) warn(`${finding.code} ${finding.file}: ${finding.message}`);

  const project = loadProject(input.projectDir, { env });
  const plan = planFromProject(project, resolveWorkflow(project, input.workflow));

  const clients = new Map<string, KlaviyoClient>();
  const fetcherFor = (authenticationId: string | number | null | undefined): AccountFetcher => {
    const credentials = project.credentials.resolve(authenticationId);
    const revision = credentials.revision ?? DEFAULT_REVISION;
    const cacheKey = `${credentials.apiKey}\u0000${revision}`;
    let client = clients.get(cacheKey);
    if (!client) {
      if (isRetiredRevision(revision, new Date(clock.now()).toISOString())) {
        warn(
          `revision ${revision} (from ${credentials.source}) is retired by Klaviyo; it is sent as given. ` +
            `Set klaviyo_revision_time to ${DEFAULT_REVISION}.`,
        );
      }
      client = createKlaviyoClient({
        apiKey: credentials.apiKey,
        revision,
        keySource: credentials.source,
        revisionSource: credentials.revisionSource,
        baseUrl: input.baseUrl ?? env.KLAVIYO_BASE_URL,
        clock,
        limiter: input.limiter,
        timeoutMs: input.timeoutMs,
        // Only when someone listens: the client builds no events otherwise.
        onEvent:
          (input.verbose && input.progress) || events.on
            ? (event) => {
                if (input.verbose) input.progress?.(describeClientEvent(event));
                clientEventToRunEvent(event, events);
              }
            : undefined,
      });
      clients.set(cacheKey, client);
    }
    return client;
  };

  // Nothing is opened or written until the selection, the load configs and the keys are known good.
  await checkBeforeWriting(
    plan,
    selectDatasources(plan, input.sources),
    (id) => project.credentials.resolve(id),
    clock.now(),
  );

  // A dry run writes nothing: without an existing database there is nothing to read either.
  const url = destinationUrlFrom(input.destination, env);
  const skipDestination = input.dryRun === true && missingDestination(url) !== null;
  const destination: Destination | null = skipDestination ? null : await openDestination(url);
  try {
    const report = await runWorkflow(
      plan,
      {
        destination,
        fetcherFor,
        clock,
        runId: input.runId ?? newRunId(clock.now()),
        ...(input.events ? { events: input.events } : {}),
        ...(input.progress ? { progress: input.progress } : {}),
      },
      { ...input, ...overrides },
    );
    addBackfillCommands(report, input);
    return report;
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close()));
    await destination?.close();
  }
}
