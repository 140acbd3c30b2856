import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import {
  CATALOG_FILES,
  readCatalogInputs,
  renderEndpointCatalog,
  repoRoot,
} from '../../scripts/gen-endpoint-catalog.js';
import { CATALOG, entryFor, parseRevision } from '../../src/klaviyo/endpoints/index.js';

const root = repoRoot(path.dirname(fileURLToPath(import.meta.url)));

function at(endpoint: Parameters<typeof entryFor>[0], revision: string) {
  const entry = entryFor(endpoint, parseRevision(revision)!);
  if (!entry) throw new Error(`${endpoint} has no entry at ${revision}`);
  return entry;
}

describe('endpoint catalog', () => {
  test('the committed catalog is what the generator makes of docs/klaviyo-api', () => {
    const committed = readFileSync(path.join(root, CATALOG_FILES.output), 'utf8');
    const generated = renderEndpointCatalog(readCatalogInputs(root));
    expect(
      committed === generated,
      `${CATALOG_FILES.output} is out of date with docs/klaviyo-api: run \`npm run gen:catalog\``,
    ).toBe(true);
  });

  test('events: no page[size] until 2026-01-15, then 1..1000 (default 200)', () => {
    expect(at('events', '2025-10-15').pageSize).toBeNull();
    expect(at('events', '2026-01-15').pageSize).toEqual({ default: 200, minimum: 1, maximum: 1000 });
    expect(at('events', '2026-07-15').pageSize).toEqual({ default: 200, minimum: 1, maximum: 1000 });
  });

  test('profiles: updated filters only with greater-than / less-than', () => {
    for (const revision of ['2022-10-17', '2024-10-15', '2026-07-15'])
      expect(at('profiles', revision).filterAllowed.updated).toEqual(['greater-than', 'less-than']);
  });

  test('includes are singular from 2023-07-15 (metric, profile), plural before', () => {
    expect(at('events', '2023-06-15').include).toEqual(['metrics', 'profiles']);
    expect(at('events', '2023-07-15').include).toEqual(expect.arrayContaining(['metric', 'profile']));
  });

  test('campaigns do not exist before 2023-02-22 and need a filter from 2023-07-15', () => {
    expect(entryFor('campaigns', parseRevision('2023-01-24')!)).toBeNull();
    expect(at('campaigns', '2023-06-15').filterRequired).toBe(false);
    expect(at('campaigns', '2023-07-15').filterRequired).toBe(true);
  });

  test('rate limits are per second (burst) and per minute (steady); scopes and field enums from 2026-07-15', () => {
    expect(at('profiles', '2026-07-15').rateLimit).toEqual({ burst: 75, steady: 750 });
    expect(CATALOG.events.scopes).toEqual(['events:read']);
    expect(CATALOG['metric-aggregates'].scopes).toEqual(['metrics:read']);
    expect(CATALOG.events.fieldEnums.event).toEqual([
      'datetime',
      'event_properties',
      'id',
      'timestamp',
      'uuid',
    ]);
  });

  test('the trailing slash of the path goes with the revision', () => {
    expect(at('metric-aggregates', '2024-07-15').trailingSlash).toBe(true);
    expect(at('metric-aggregates', '2024-10-15').trailingSlash).toBe(false);
  });

  test('consecutive entries differ: one entry per contract change', () => {
    for (const spec of Object.values(CATALOG)) {
      for (let i = 1; i < spec.revisions.length; i++) {
        const { since: _a, ...before } = spec.revisions[i - 1]!;
        const { since: _b, ...after } = spec.revisions[i]!;
        expect(after).not.toEqual(before);
      }
    }
  });
});
