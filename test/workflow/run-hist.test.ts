import { describe, expect, it } from 'vitest';
import { clockFrom } from '../support/clocks.js';
import { DESTINATION_KINDS, queryDestination, tableCounts } from '../support/destination.js';
import { useHarness } from '../support/harness.js';

const NOW = Date.UTC(2025, 9, 15, 12, 0, 0);
const HIST_START = Date.UTC(2023, 8, 1);

describe.each(DESTINATION_KINDS)(
  'run hist: the historical workflow loads the five hist tables (%s)',
  (kind) => {
    // Data reaching back before the hist default start, so the window's lower bound matters.
    const h = useHarness(
      { seed: 29, now: NOW, start: Date.UTC(2023, 6, 1), profiles: 300, events: 3000 },
      undefined,
      kind,
    );

    it('windows each source on its created field from default_start_time, campaigns on created_at', async () => {
      const report = await h.run({ workflow: 'hist', clock: clockFrom(NOW) });
      expect(report.workflow).toBe('klaviyo_ingest_hist.dig');
      // A failed source's error is in the diff, so a failure says why.
      expect(
        report.sources.map((s) => `${s.table} ${s.status} ${s.startTime}${s.error ? ` (${s.error})` : ''}`),
      ).toEqual([
        'klaviyo_events_hist SUCCESS 2023-09-01T00:00:00.000000',
        'klaviyo_email_templates_hist SUCCESS 2023-09-01T00:00:00.000000',
        'klaviyo_campaigns_hist SUCCESS 2023-09-01T00:00:00.000000',
        'klaviyo_lists_hist SUCCESS 2023-09-01T00:00:00.000000',
        'klaviyo_profiles_hist SUCCESS 2023-09-01T00:00:00.000000',
      ]);
      const end = Date.parse(`${String(report.sources[0]?.endTime).slice(0, 19)}Z`);
      const window = { gte: HIST_START, lt: end };
      const expected: Record<string, number> = {
        klaviyo_events_hist: h.sim.count('events', { field: 'datetime', ...window }),
        klaviyo_email_templates_hist: h.sim.count('templates', { field: 'created', ...window }),
        klaviyo_campaigns_hist: h.sim.count('campaigns', { field: 'created_at', ...window }),
        klaviyo_lists_hist: h.sim.count('lists', { field: 'created', ...window }),
        klaviyo_profiles_hist: h.sim.count('profiles', { field: 'created', ...window }),
      };
      expect(await tableCounts(h.destination, h.schema, Object.keys(expected))).toEqual(expected);
      for (const [table, count] of Object.entries(expected))
        expect(count, `${table} has data`).toBeGreaterThan(0);
      expect(h.sim.count('events', { field: 'datetime', lt: HIST_START })).toBeGreaterThan(0);
      const campaignFilter = h.sim.requestLog().find((r) => r.endpoint === 'campaigns')?.query.filter;
      expect(String(campaignFilter)).toContain('greater-or-equal(created_at,2023-09-01T00:00:00Z)');
      const tables = await queryDestination(
        h.destination,
        `SELECT table_name FROM information_schema.tables WHERE table_schema = '${h.schema}' ORDER BY 1`,
      );
      expect(tables.map((t) => t.table_name)).not.toContain('klaviyo_metric_data_hist');
    });
  },
);
