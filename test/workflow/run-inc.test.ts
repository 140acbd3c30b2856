import { describe, expect, it } from 'vitest';
import { clockFrom } from '../support/clocks.js';
import { DESTINATION_KINDS, tableCounts } from '../support/destination.js';
import { useHarness } from '../support/harness.js';

const NOW = Date.UTC(2025, 9, 15, 12, 0, 0);
const INC_START = Date.UTC(2025, 8, 1);

describe.each(DESTINATION_KINDS)('run inc: the templates unchanged, all six sources (%s)', (kind) => {
  const h = useHarness({ seed: 11, now: NOW, profiles: 400, events: 4000 }, undefined, kind);

  it('loads each source with exactly the rows the simulator holds for its window', async () => {
    const report = await h.run({ clock: clockFrom(NOW) });
    expect(report.sources.map((s) => [s.name, s.status, s.error ?? ''])).toEqual([
      ['events', 'SUCCESS', ''],
      ['templates', 'SUCCESS', ''],
      ['campaigns', 'SUCCESS', ''],
      ['lists', 'SUCCESS', ''],
      ['profiles', 'SUCCESS', ''],
      ['metrics', 'SUCCESS', ''],
    ]);
    const window = { gte: INC_START, lt: NOW };
    const expected: Record<string, number> = {
      klaviyo_events: h.sim.count('events', { field: 'datetime', ...window }),
      klaviyo_email_templates: h.sim.count('templates', { field: 'updated', ...window }),
      klaviyo_campaigns: h.sim.count('campaigns', { field: 'updated_at', ...window }),
      klaviyo_lists: h.sim.count('lists', { field: 'updated', ...window }),
      klaviyo_profiles: h.sim.count('profiles', { field: 'updated', ...window }),
      klaviyo_metric_data: h.sim.count('metrics'),
    };
    expect(await tableCounts(h.destination, h.schema, Object.keys(expected))).toEqual(expected);
    for (const [table, count] of Object.entries(expected))
      expect(count, `${table} has data to load`).toBeGreaterThan(0);
  });
});
