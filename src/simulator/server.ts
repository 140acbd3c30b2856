import { appendFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CATALOG,
  type CollectionName,
  ENDPOINT_NAMES,
  ENDPOINT_OPERATIONS,
  type EndpointName,
  entryFor,
  parseRevision,
  type ServedCollectionName,
} from '../klaviyo/endpoints/index.js';
import type { ChildEndpoint } from './data/children.js';
import { Rng } from './data/random.js';
import {
  type DataOptions,
  type HoldBackSpec,
  type RecordCounts,
  SimulatorData,
  type WindowSpec,
} from './data/store.js';
import { handleCampaignValues } from './http/campaign-values.js';
import { handleCollection } from './http/collection-handler.js';
import {
  ApiError,
  authenticationFailed,
  invalidParam,
  notFound,
  permissionDenied,
  serverError,
  throttled,
} from './http/errors.js';
import { FaultInjector, type FaultRule, parseFaultSpec } from './http/faults.js';
import { handleFlowSeries } from './http/flow-series.js';
import { handleMetricAggregates } from './http/metric-aggregates.js';
import { type Limits, RateLimiter, type TierName } from './http/rate-limit.js';
import { RequestLog, type RequestLogEntry, redactKey } from './http/request-log.js';
import { type BodyMode, CLOUDFLARE_403_HTML, JSON_API, writeResponse } from './http/responses.js';

/** The key the simulator accepts when no keys are configured. */
export const DEMO_API_KEY = 'pk_demo_simulator_key_0000000000000';

export interface SimulatorOptions extends DataOptions {
  /** 0 (default) = pick a free port. Always binds 127.0.0.1. */
  port?: number;
  /** Accepted private keys (default `[DEMO_API_KEY]`). */
  apiKeys?: string[];
  /** Per key, the scopes it has (e.g. `['events:read']`); keys not listed have every scope. */
  keyScopes?: Record<string, string[]>;
  /** Fixed latency added to every response. */
  latencyMs?: number;
  /** Up to this much extra latency, drawn deterministically from the seed. */
  jitterMs?: number;
  /** `real` (default), `off`, or `scaled:F`. */
  rateLimits?: string;
  /** Per endpoint or per tier limits, e.g. `{ events: { burst: 35, steady: 350 } }`. */
  rateLimitOverrides?: Partial<Record<EndpointName | TierName, Limits>>;
  /**
   * Send `RateLimit-Limit/-Remaining/-Reset` on every non-429 response, as Klaviyo does (default
   * true). False models a proxy that strips them: a client then only learns the limits from 429s.
   */
  rateLimitHeaders?: boolean | ((apiKey: string) => boolean);
  /** `clock` (default) or `first-request`: see RateLimitOptions.windows. */
  rateLimitWindows?: 'clock' | 'first-request';
  /** Keys no rate limit applies to (benchmarks warm the page cache with one). */
  unlimitedKeys?: string[];
  /** Fault rules, or a CLI spec string (see `parseFaultSpec`). */
  faults?: FaultRule[] | string;
  /** Cursors older than this (wall clock) are rejected with 400 "Invalid cursor provided". */
  cursorTtlMs?: number;
  /** Wall clock for rate-limit windows, cursor ages and the log (default Date.now). */
  wallClock?: () => number;
  /** Append each request log entry as JSONL to this file. */
  logFile?: string;
  /**
   * Benchmarks: memoize each successful collection page's serialized body per (revision, full URL),
   * so serving it again costs almost no CPU. Next links in a cached body keep the cursors first
   * issued, so a run that follows them hits the cache all the way. Cached pages skip `cursorTtlMs`.
   * Each resource's text is memoized too, so a page with new boundaries (a run that slices its
   * window differently) is a join of cached texts.
   */
  cachePages?: boolean;
}

export interface PageCacheStats {
  hits: number;
  misses: number;
  pages: number;
  bytes: number;
}

export interface Simulator {
  /** `http://127.0.0.1:PORT` */
  baseUrl: string;
  port: number;
  data: SimulatorData;
  close(): Promise<void>;
  requestLog(): RequestLogEntry[];
  clearLog(): void;
  /** Page cache counters (all zero unless `cachePages`). */
  pageCacheStats(): PageCacheStats;
  /** Simulated "now" (epoch ms). */
  now(): number;
  advanceTime(ms: number): number;
  addRecords(counts: RecordCounts): void;
  updateRecords(counts: RecordCounts): void;
  count(source: CollectionName, window?: WindowSpec): number;
  /**
   * Klaviyo's late listing: these events still count in metric-aggregates but GET /api/events leaves
   * them out until `releaseEvents()`. Returns their ids.
   */
  holdBackEvents(spec: HoldBackSpec): string[];
  /** Lists every held-back event again; returns how many were released. */
  releaseEvents(): number;
  addFault(rule: FaultRule | string): void;
  clearFaults(): void;
  faults(): FaultRule[];
  /** Replace the accepted keys at runtime. */
  setApiKeys(keys: string[], scopes?: Record<string, string[]>): void;
}

/** Child collections by (parent path, child path): `/api/lists/{id}/profiles` -> list-profiles. */
const CHILD_ROUTES: Record<string, ChildEndpoint> = {
  'lists/profiles': 'list-profiles',
  'segments/profiles': 'segment-profiles',
  'flows/flow-actions': 'flow-actions',
  'flow-actions/flow-messages': 'flow-messages',
  'campaigns/campaign-messages': 'campaign-messages',
  'lists/relationships/profiles': 'list-profile-ids',
  'segments/relationships/profiles': 'segment-profile-ids',
};

/** Endpoints that answer with resource identifiers (`{type, id}`) only: relationships. */
const IDENTIFIER_ENDPOINTS: ReadonlySet<EndpointName> = new Set(['list-profile-ids', 'segment-profile-ids']);

interface Route {
  endpoint: EndpointName;
  /** The parent's id, for a child collection. */
  parentId: string | null;
}

function routeOf(pathname: string): Route | null {
  const m = /^\/api\/([a-z-]+)\/?$/.exec(pathname);
  if (m) {
    const name = m[1] as EndpointName;
    return ENDPOINT_NAMES.includes(name) && !Object.values(CHILD_ROUTES).includes(name as ChildEndpoint)
      ? { endpoint: name, parentId: null }
      : null;
  }
  const child = /^\/api\/([a-z-]+)\/([^/]+)\/((?:relationships\/)?[a-z-]+)\/?$/.exec(pathname);
  const endpoint = child ? CHILD_ROUTES[`${child[1]}/${child[3]}`] : undefined;
  return child && endpoint ? { endpoint, parentId: decodeURIComponent(child[2] as string) } : null;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function queryObject(params: [string, string][]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of params) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** Starts the Klaviyo API simulator on 127.0.0.1. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const data = new SimulatorData(options);
  const wall = options.wallClock ?? Date.now;
  let keys = new Set(options.apiKeys && options.apiKeys.length > 0 ? options.apiKeys : [DEMO_API_KEY]);
  let scopes: Record<string, string[]> = { ...(options.keyScopes ?? {}) };
  const limiter = new RateLimiter(
    {
      mode: options.rateLimits ?? 'real',
      overrides: options.rateLimitOverrides ?? {},
      windows: options.rateLimitWindows ?? 'clock',
      unlimitedKeys: options.unlimitedKeys ?? [],
    },
    wall,
  );
  const faults = new FaultInjector(
    data.seed,
    typeof options.faults === 'string' ? parseFaultSpec(options.faults) : (options.faults ?? []),
  );
  const latencyRng = new Rng(data.seed ^ 0x1a7e);
  const log = new RequestLog();
  if (options.logFile) {
    const file = options.logFile;
    log.onEntry((e) => appendFileSync(file, `${JSON.stringify(e)}\n`));
  }
  const timers = new Set<NodeJS.Timeout>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (ms <= 0) return resolve();
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });
  let baseUrl = '';
  const pageCache = new Map<string, Buffer>();
  const resourceTexts = options.cachePages ? new Map<string, Buffer>() : null;
  const cacheStats: PageCacheStats = { hits: 0, misses: 0, pages: 0, bytes: 0 };
  // Records change when time moves or records are added/updated: cached pages are then stale.
  const dropCache = () => {
    pageCache.clear();
    resourceTexts?.clear();
    cacheStats.pages = 0;
    cacheStats.bytes = 0;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = wall();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const params = [...url.searchParams.entries()];
    const route = routeOf(url.pathname);
    const endpoint = route?.endpoint ?? null;
    const inFlight = log.enter(endpoint ?? '-');
    const authHeader = req.headers.authorization;
    const keyMatch = /^Klaviyo-API-Key\s+(\S+)$/.exec(authHeader ?? '');
    const apiKey = keyMatch?.[1] ?? null;
    const revisionHeader = typeof req.headers.revision === 'string' ? req.headers.revision : null;
    let status = 500;
    let faultName: string | null = null;
    let mode: BodyMode = 'normal';
    let headers: Record<string, string> = { 'Content-Type': JSON_API };
    let body: string | Buffer = '';
    // Once the request counted against the limits, every answer but a 429 carries the headers.
    let rateHeaders: Record<string, string> = {};
    try {
      try {
        if (!endpoint) throw notFound(url.pathname);
        const isPost = ENDPOINT_OPERATIONS[endpoint].method === 'post';
        if (req.method !== (isPost ? 'POST' : 'GET')) {
          throw new ApiError(
            405,
            'method_not_allowed',
            'Method not allowed.',
            `Method "${req.method}" not allowed.`,
          );
        }
        const fault = faults.pick(endpoint, 'request');
        if (fault) {
          faultName = fault.kind === 'status' ? `status:${fault.status ?? 503}` : fault.kind;
          if (fault.kind === 'status') throw serverError(fault.status ?? 503);
          if (fault.kind === '429') throw throttled(fault.retryAfter ?? 1, true);
          if (fault.kind === '429-no-retry-after') throw throttled(fault.retryAfter ?? 1, false);
          if (fault.kind === 'html403') {
            status = 403;
            headers = {
              'Content-Type': 'text/html; charset=UTF-8',
              'cf-mitigated': 'challenge',
              Server: 'cloudflare',
            };
            body = CLOUDFLARE_403_HTML;
            return;
          }
          if (fault.kind === 'slow') await sleep(fault.delayMs ?? 30_000);
          if (fault.kind === 'truncate' || fault.kind === 'reset') mode = fault.kind;
        }
        if (!apiKey || !keys.has(apiKey)) throw authenticationFailed();
        const revision = parseRevision(revisionHeader ?? undefined);
        if (!revision) {
          throw invalidParam(
            'revision',
            revisionHeader
              ? `'${revisionHeader}' is not a valid revision. Expected YYYY-MM-DD or YYYY-MM-DD.pre.`
              : "Missing 'revision' header. Expected YYYY-MM-DD or YYYY-MM-DD.pre.",
          );
        }
        const scope = CATALOG[endpoint].scopes[0] ?? '';
        const keyScopes = scopes[apiKey];
        if (keyScopes && !keyScopes.includes(scope)) throw permissionDenied(scope);
        const entry = entryFor(endpoint, revision);
        if (!entry) throw notFound(url.pathname);
        const predictive =
          endpoint === 'profiles' &&
          (url.searchParams.get('additional-fields[profile]') ?? '')
            .split(',')
            .includes('predictive_analytics');
        const decision = limiter.take(apiKey, endpoint, predictive ? ['main', 'predictive'] : ['main']);
        if (!decision.ok) throw throttled(decision.retryAfterSeconds, true);
        const sendHeaders =
          typeof options.rateLimitHeaders === 'function'
            ? options.rateLimitHeaders(apiKey)
            : options.rateLimitHeaders !== false;
        if (sendHeaders) rateHeaders = decision.headers;
        if (url.searchParams.has('page[cursor]')) {
          const cursorFault = faults.pick(endpoint, 'cursor');
          if (cursorFault) {
            faultName = 'expire-cursor';
            throw invalidParam('page[cursor]', 'Invalid cursor provided');
          }
        }
        const cacheKey = options.cachePages && !isPost ? `${revisionHeader}\u0000${req.url}` : null;
        const cached = cacheKey === null ? undefined : pageCache.get(cacheKey);
        if (cached) {
          cacheStats.hits++;
          status = 200;
          headers = { ...headers, ...rateHeaders };
          body = cached;
          return;
        }
        let text: string | Buffer;
        if (isPost) {
          const requestBody = await readBody(req);
          let parsed: unknown;
          try {
            parsed = JSON.parse(requestBody);
          } catch {
            throw new ApiError(400, 'parse_error', 'Malformed request.', 'JSON parse error.', {
              pointer: '/data',
            });
          }
          text = JSON.stringify(
            endpoint === 'flow-series-reports'
              ? handleFlowSeries(
                  parsed,
                  {
                    children: data.children,
                    flowSeries: data.flowSeries,
                    metrics: data.metrics,
                    now: data.now(),
                  },
                  baseUrl,
                )
              : endpoint === 'campaign-values-reports'
                ? handleCampaignValues(
                    parsed,
                    {
                      campaigns: data.campaigns.records,
                      values: data.campaignValues,
                      metrics: data.metrics,
                      now: data.now(),
                    },
                    baseUrl,
                  )
                : handleMetricAggregates(parsed, data.events, data.metrics, baseUrl),
          );
        } else {
          const parentId = route?.parentId ?? null;
          const coll =
            parentId === null
              ? data.collection(endpoint as CollectionName)
              : data.childCollection(endpoint as ChildEndpoint, parentId);
          if (!coll) throw notFound(url.pathname);
          text = handleCollection({
            endpoint: endpoint as ServedCollectionName,
            coll,
            path: url.pathname.replace(/\/+$/, ''),
            entry,
            revision,
            params,
            baseUrl,
            wallNow: wall(),
            cursorTtlMs: options.cursorTtlMs ?? null,
            identifiersOnly: IDENTIFIER_ENDPOINTS.has(endpoint),
            ...(resourceTexts ? { resourceTexts } : {}),
          });
        }
        status = 200;
        headers = { ...headers, ...rateHeaders };
        body = text;
        if (cacheKey !== null) {
          const buffer = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
          cacheStats.misses++;
          cacheStats.pages++;
          cacheStats.bytes += buffer.length;
          pageCache.set(cacheKey, buffer);
          body = buffer;
        }
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        status = error.status;
        headers = { 'Content-Type': JSON_API, ...(status === 429 ? {} : rateHeaders), ...error.headers };
        body = JSON.stringify(error.body());
      }
    } catch (error) {
      status = 500;
      headers = { 'Content-Type': JSON_API };
      body = JSON.stringify(serverError(500).body());
      process.stderr.write(
        `simulator: internal error: ${error instanceof Error ? error.stack : String(error)}\n`,
      );
    } finally {
      const latency =
        (options.latencyMs ?? 0) + (options.jitterMs ? latencyRng.next() * options.jitterMs : 0);
      await sleep(latency);
      if (!res.destroyed) writeResponse(res, status, headers, body, mode);
      log.leave(endpoint ?? '-');
      log.record({
        seq: log.nextSeq(),
        method: req.method ?? 'GET',
        path: url.pathname,
        endpoint,
        query: queryObject(params),
        status,
        startedAt: started,
        durationMs: wall() - started,
        inFlightAtStart: inFlight,
        apiKey: redactKey(apiKey),
        revision: revisionHeader,
        fault: faultName,
      });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}`;

  return {
    baseUrl,
    port,
    data,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    requestLog: () => log.all(),
    clearLog: () => log.clear(),
    pageCacheStats: () => ({ ...cacheStats }),
    now: () => data.now(),
    advanceTime: (ms) => {
      dropCache();
      return data.advanceTime(ms);
    },
    addRecords: (c) => {
      dropCache();
      data.addRecords(c);
    },
    updateRecords: (c) => {
      dropCache();
      data.updateRecords(c);
    },
    count: (source, window) => data.count(source, window),
    holdBackEvents: (spec) => {
      dropCache();
      return data.holdBackEvents(spec);
    },
    releaseEvents: () => {
      dropCache();
      return data.releaseEvents();
    },
    addFault: (rule) => {
      for (const r of typeof rule === 'string' ? parseFaultSpec(rule) : [rule]) faults.add(r);
    },
    clearFaults: () => faults.clear(),
    faults: () => faults.rules(),
    setApiKeys: (k, s) => {
      keys = new Set(k);
      scopes = { ...(s ?? {}) };
    },
  };
}
