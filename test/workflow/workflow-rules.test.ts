import { describe, expect, it } from 'vitest';
import type { RunProjectInput } from '../../src/workflow/run-project.js';
import { clockFrom } from '../support/clocks.js';
import { DESTINATION_KINDS, queryDestination } from '../support/destination.js';
import { useHarness } from '../support/harness.js';

const NOW = Date.UTC(2025, 9, 15, 12, 0, 0);

/** A reported window end (`…T12:00:01.000000`) as the API filter writes it, checked to be NOW or a few seconds after. */
function windowEnd(reported: string | undefined): string {
  const ms = Date.parse(`${String(reported).slice(0, 19)}Z`);
  expect(ms - NOW).toBeGreaterThanOrEqual(0);
  expect(ms - NOW).toBeLessThan(30_000);
  return `${String(reported).slice(0, 19)}Z`;
}

describe.each(DESTINATION_KINDS)('the window rules, the requests and the ingestion log (%s)', (kind) => {
  const h = useHarness({ seed: 3, now: NOW, profiles: 200, events: 2000, latencyMs: 20 }, undefined, kind);
  const query = (sql: string) => queryDestination(h.destination, sql);

  const run = (extra: Partial<RunProjectInput> = {}) => h.run({ clock: clockFrom(NOW), ...extra });

  it('--dry-run shows windows and exact first requests and writes nothing', async () => {
    const report = await run({ dryRun: true });
    expect(report.sources.every((s) => s.status === 'DRY_RUN')).toBe(true);
    const byName = Object.fromEntries(report.sources.map((s) => [s.name, s]));
    expect(byName.events?.startTime).toBe('2025-09-01T00:00:00.000000');
    const end = windowEnd(byName.events?.endTime);
    expect(byName.metrics?.startTime).toBe('');
    expect(byName.events?.requests).toEqual([
      `${h.sim.baseUrl}/api/events?filter=and(greater-or-equal(datetime,2025-09-01T00:00:00Z),less-than(datetime,${end}))&sort=datetime&page[size]=1000`,
    ]);
    expect(byName.campaigns?.requests).toHaveLength(6);
    expect(byName.events?.requestHeaders).toEqual({
      Authorization: 'Klaviyo-API-Key ***',
      revision: '2026-07-15',
      Accept: 'application/vnd.api+json',
    });
    expect(byName.metrics?.requests).toEqual([`${h.sim.baseUrl}/api/metrics`]);
    expect(h.sim.requestLog()).toHaveLength(0);
    await expect(query(`SELECT 1 FROM ${h.schema}.ingestion_log`)).rejects.toThrow();
  });

  it('starts from the table max cut to seconds; campaigns: column updated_at, filter updated_at, config updated', async () => {
    for (const sql of [
      `CREATE SCHEMA ${h.schema}`,
      `CREATE TABLE ${h.schema}.klaviyo_campaigns (updated_at VARCHAR, time BIGINT)`,
      `INSERT INTO ${h.schema}.klaviyo_campaigns VALUES ('2025-09-03T10:11:12.345+00:00', 1), ('2025-09-02T23:00:00+00:00', 1)`,
      `CREATE TABLE ${h.schema}.klaviyo_profiles (updated VARCHAR, time BIGINT)`,
      `INSERT INTO ${h.schema}.klaviyo_profiles VALUES ('2025-09-03T10:11:12+00:00', 1)`,
    ])
      await query(sql);
    const report = await run({ sources: ['campaigns', 'profiles', 'events', 'metrics'] });
    expect(report.ok).toBe(true);
    const campaigns = report.sources.find((s) => s.name === 'campaigns');
    expect(campaigns?.startTime).toBe('2025-09-03T10:11:12.000000');
    // The window ends at the clock's now, which moves with real time from NOW: on a loaded machine the
    // run may read it a second or two later, so the filters are checked against the reported end.
    const end = windowEnd(campaigns?.endTime);
    const log = h.sim.requestLog();
    const campaignFilters = log.filter(
      (r) => r.endpoint === 'campaigns' && r.query['page[cursor]'] === undefined,
    );
    expect(campaignFilters).toHaveLength(6);
    for (const r of campaignFilters) {
      expect(r.query.filter).toMatch(
        /^and\(equals\(messages\.channel,'(email|sms|mobile_push)'\),equals\(archived,(true|false)\),greater-or-equal\(updated_at,2025-09-03T10:11:12Z\),less-than\(updated_at,(.+)\)\)$/,
      );
      expect(r.query.filter).toContain(`less-than(updated_at,${end})`);
      expect(r.query.sort).toBe('updated_at');
    }
    const profileRequest = log.find((r) => r.endpoint === 'profiles');
    expect(profileRequest?.query.filter).toBe(
      `and(greater-than(updated,2025-09-03T10:11:11Z),less-than(updated,${windowEnd(
        report.sources.find((s) => s.name === 'profiles')?.endTime,
      )}))`,
    );
    const eventRequest = log.find((r) => r.endpoint === 'events');
    expect(eventRequest?.query.include).toBeUndefined();
    expect(String(eventRequest?.query.filter)).toContain('greater-or-equal(datetime,2025-09-01T00:00:00Z)');
    const metricRequest = log.find((r) => r.endpoint === 'metrics');
    expect(metricRequest?.query).toEqual({});
    const [row] = await query(
      `SELECT count(*) AS n FROM ${h.schema}.klaviyo_campaigns WHERE updated_at >= '2025-09-03T10:11:12'`,
    );
    expect(Number(row?.n)).toBe(
      h.sim.count('campaigns', { field: 'updated_at', gte: Date.UTC(2025, 8, 3, 10, 11, 12), lt: NOW }) + 1,
    );
  });

  it('logs STARTED and SUCCESS per source with window and rows; a failing source logs ERROR rows while others load', async () => {
    h.sim.clearLog();
    // Profiles' key scope is revoked: the API answers 403 for that endpoint only.
    h.sim.setApiKeys([h.env.KLAVIYO_API_KEY as string], {
      [h.env.KLAVIYO_API_KEY as string]: [
        'events:read',
        'campaigns:read',
        'lists:read',
        'templates:read',
        'metrics:read',
      ],
    });
    const later = NOW + 3600_000;
    const report = await run({ clock: clockFrom(later) });
    h.sim.setApiKeys([h.env.KLAVIYO_API_KEY as string]);
    expect(report.ok).toBe(false);
    const profiles = report.sources.find((s) => s.name === 'profiles');
    expect(profiles?.status).toBe('ERROR');
    expect(profiles?.error).toMatch(/403/);
    expect(profiles?.error).toMatch(/profiles:read/);
    expect(report.sources.filter((s) => s.status === 'SUCCESS').map((s) => s.name)).toEqual([
      'events',
      'templates',
      'campaigns',
      'lists',
      'metrics',
    ]);
    const log = await query(
      `SELECT source_name, workflow_name, table_name, status, start_time, end_time, records_processed, error_message, job_id
       FROM ${h.schema}.ingestion_log WHERE time >= ${Math.floor(later / 1000)}`,
    );
    const success = log.filter((r) => r.status === 'SUCCESS' && r.source_name === 'klaviyo_events');
    expect(success.at(-1)).toMatchObject({
      workflow_name: 'klaviyo_ingest.dig',
      table_name: 'klaviyo_events',
      end_time: '2025-10-15T13:00:00.000000',
    });
    expect(Number(success.at(-1)?.records_processed)).toBe(report.sources[0]?.records);
    const errors = log.filter((r) => r.status === 'ERROR');
    expect(errors.map((r) => `${r.source_name} ${r.workflow_name}`).sort()).toEqual([
      'klaviyo klaviyo_ingest',
      'klaviyo_profiles klaviyo_ingest.dig',
    ]);
    const fixed = errors.find((r) => r.source_name === 'klaviyo');
    const named = errors.find((r) => r.source_name === 'klaviyo_profiles');
    expect(fixed?.error_message).toBe('klaviyo ingestion failed. check klaviyo_ingest');
    expect(String(named?.error_message)).toContain('profiles:read');
    expect(String(named?.error_message)).not.toContain(h.env.KLAVIYO_API_KEY);
    const started = log.filter((r) => r.status === 'STARTED').map((r) => r.source_name);
    expect(started).toHaveLength(6);
  });
});

describe('the .dig _parallel limit', () => {
  // Enough latency that sources certainly overlap when the pool lets them.
  const h = useHarness({ seed: 3, now: NOW, profiles: 200, events: 2000, latencyMs: 150 });
  const run = (extra: Partial<RunProjectInput> = {}) => h.run({ clock: clockFrom(NOW), ...extra });

  it('never has more than the .dig limit (3) sources in flight', async () => {
    h.sim.clearLog();
    const report = await run({ start: '2025-09-01T00:00:00.000000' });
    expect(report.ok).toBe(true);
    const requests = h.sim.requestLog();
    // Sweep the request intervals: at each arrival, count endpoints with a request being served.
    let most = 0;
    for (const r of requests) {
      const busy = new Set(
        requests
          .filter((o) => o.startedAt <= r.startedAt && o.startedAt + o.durationMs > r.startedAt)
          .map((o) => o.endpoint),
      );
      most = Math.max(most, busy.size);
    }
    expect(most).toBeGreaterThanOrEqual(2);
    expect(most).toBeLessThanOrEqual(3);
  });
});
