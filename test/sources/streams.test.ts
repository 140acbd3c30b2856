/**
 * Every stream against the endpoint catalog generated from Klaviyo's OpenAPI documents: at every
 * revision where its endpoint's contract changed, each request a stream plans may only use filter
 * operators, sort, page size, include and additional-fields that revision allows, and the stream asks
 * for the largest page the revision allows. A stream that asks for what the API refuses fails here.
 */
import { describe, expect, it } from 'vitest';
import {
  CATALOG,
  type EndpointName,
  entryFor,
  parseRevision,
  type RevisionEntry,
} from '../../src/klaviyo/endpoints/index.js';
import { DEFAULT_REVISION } from '../../src/klaviyo/revisions.js';
import { parseFilter } from '../../src/simulator/query/filter-parser.js';
import { collectionSource } from '../../src/sources/collection-source.js';
import { getSource } from '../../src/sources/registry.js';
import type { StreamSpec } from '../../src/sources/stream.js';
import { STREAMS } from '../../src/sources/streams/index.js';
import type { SourceParams } from '../../src/sources/types.js';

const WINDOW = { startMs: Date.UTC(2025, 8, 3, 10, 11, 12), endMs: Date.UTC(2025, 9, 1) };

function endpointName(stream: StreamSpec): EndpointName {
  const found = Object.entries(CATALOG).find(([, spec]) => spec.path.replace(/\/$/, '') === stream.endpoint);
  if (!found) throw new Error(`${stream.name}: ${stream.endpoint} is not in the endpoint catalog`);
  return found[0] as EndpointName;
}

/**
 * The revisions at which the endpoint's contract changed, plus our default and the templates' own;
 * none before the stream's own first revision (a newer filter field), which planning refuses.
 */
function revisionsOf(name: EndpointName, stream?: StreamSpec): string[] {
  const since = CATALOG[name].revisions.map((entry) => entry.since);
  return [...new Set([...since, '2023-02-22', DEFAULT_REVISION])]
    .filter((revision) => stream?.since === undefined || revision >= stream.since)
    .sort();
}

/**
 * Every way a load config can read the stream: each window field, or none for a full load (as a child
 * collection's parents are read).
 */
function paramsFor(stream: StreamSpec, revision: string): SourceParams[] {
  const fields: (string | null)[] = Object.keys(stream.windowFields);
  if (fields.length === 0 || stream.implicitWindowField || STREAMS.some((s) => s.parent?.stream === stream))
    fields.push(null);
  return fields.map((windowField) => ({
    dataSource: stream.name,
    windowField: windowField ?? null,
    window: windowField === null && !stream.implicitWindowField ? { startMs: null, endMs: null } : WINDOW,
    revision,
    skipRelatedObjects: false,
    additionalFields: [],
  }));
}

/** What the stream's planned requests ask for that the revision refuses (empty when all is allowed). */
function refusals(stream: StreamSpec, entry: RevisionEntry, params: SourceParams): string[] {
  const problems: string[] = [];
  // A child collection is planned for one parent (coupon codes name it in the filter).
  const parentId = stream.parent === undefined ? undefined : 'P1';
  for (const request of collectionSource(stream).plan(params, parentId)) {
    const { filter, sort, include, 'page[size]': pageSize, ...rest } = request.query;
    if (entry.filterRequired && filter === undefined) problems.push('no filter (one is required)');
    for (const condition of filter ? parseFilter(filter) : []) {
      if (!(entry.filterAllowed[condition.field] ?? []).includes(condition.op))
        problems.push(`filter ${condition.op}(${condition.field})`);
    }
    if (sort !== undefined && !(entry.sort ?? []).includes(sort)) problems.push(`sort=${sort}`);
    if (entry.pageSize === null && pageSize !== undefined)
      problems.push(`page[size]=${pageSize} (none allowed)`);
    if (entry.pageSize !== null && pageSize !== String(entry.pageSize.maximum))
      problems.push(`page[size]=${pageSize ?? 'absent'} (the largest allowed is ${entry.pageSize.maximum})`);
    for (const related of include?.split(',') ?? []) {
      if (!entry.include.includes(related)) problems.push(`include=${related}`);
    }
    for (const [key, value] of Object.entries(rest)) {
      const type = /^additional-fields\[(.+)\]$/.exec(key)?.[1];
      const allowed = type === undefined ? undefined : entry.additionalFields[key];
      if (!allowed) problems.push(`${key} (unknown parameter)`);
      else for (const item of value.split(',')) if (!allowed.includes(item)) problems.push(`${key}=${item}`);
    }
  }
  return problems;
}

// Memberships also read each parent's member ids (not a data source of their own): checked the same way.
const MEMBER_ID_STREAMS = STREAMS.flatMap((stream) =>
  stream.parent?.memberIds ? [stream.parent.memberIds] : [],
);

describe.each([...STREAMS, ...MEMBER_ID_STREAMS].map((stream) => [stream.name, stream] as const))(
  'stream %s',
  (_name, stream) => {
    const name = endpointName(stream);

    it.each(revisionsOf(name, stream))('plans only what revision %s allows', (revision) => {
      const entry = entryFor(name, parseRevision(revision)!);
      if (entry === null) return; // the endpoint did not exist yet
      if (stream.since !== undefined && revision < stream.since) {
        // The stream needs a newer revision: planning says so instead of asking for what is refused.
        expect(() => collectionSource(stream).plan(paramsFor(stream, revision)[0]!)).toThrow(
          expect.objectContaining({ code: 'STREAM_NEEDS_NEWER_REVISION' }),
        );
        return;
      }
      for (const params of paramsFor(stream, revision)) {
        expect({ windowField: params.windowField, refused: refusals(stream, entry, params) }).toEqual({
          windowField: params.windowField,
          refused: [],
        });
      }
    });

    it('declares window fields with operators and sort the API has at every revision', () => {
      for (const revision of revisionsOf(name, stream)) {
        const entry = entryFor(name, parseRevision(revision)!);
        if (entry === null) continue;
        for (const [connector, field] of Object.entries(stream.windowFields)) {
          const allowed = entry.filterAllowed[field.apiField] ?? [];
          expect({ revision, connector, operators: [...field.operators].sort() }).toEqual({
            revision,
            connector,
            operators: allowed.filter((op) => field.operators.includes(op as never)).sort(),
          });
          const sorts = field.sortableSince !== null && revision >= field.sortableSince;
          expect({ revision, connector, sorts }).toEqual({
            revision,
            connector,
            sorts: (entry.sort ?? []).includes(field.apiField),
          });
        }
      }
    });
  },
);

describe('child collections', () => {
  const children = STREAMS.filter((stream) => stream.parent !== undefined);

  it.each(children.map((stream) => [stream.name, stream] as const))(
    '%s: one parent per request, its id in the path (or the filter), recorded on every row',
    (_name, stream) => {
      const params = paramsFor(stream, DEFAULT_REVISION)[0]!;
      const source = getSource(stream.name);
      const requests = source.plan(params, 'P/1');
      expect(requests.map((r) => r.path)).toEqual(
        requests.map(() => stream.endpoint.replace('{id}', encodeURIComponent('P/1'))),
      );
      const filterField = stream.parent?.filterField;
      if (!stream.report) expect(stream.endpoint.includes('{id}')).toBe(filterField === undefined);
      if (filterField !== undefined) {
        for (const request of requests)
          expect(parseFilter(String(request.query.filter))).toContainEqual(
            expect.objectContaining({
              field: filterField,
              op: 'equals',
              value: { kind: 'string', value: 'P/1' },
            }),
          );
      }
      const row = source.flatten({ type: stream.resourceType, id: 'R1', attributes: {} }, new Map(), 'P/1');
      const own = stream.parent?.ownIdColumn;
      expect(row).toEqual({
        id: own ? 'P/1:R1' : 'R1',
        [stream.parent!.column]: 'P/1',
        ...(own ? { [own]: 'R1' } : {}),
      });
      // A parent stream is one the registry reads too, so its requests are checked above.
      expect(STREAMS).toContain(stream.parent!.stream);
    },
  );

  it('refuses a revision before the stream can be read, naming the fix', () => {
    const stream = STREAMS.find((s) => s.since !== undefined)!;
    const params = { ...paramsFor(stream, DEFAULT_REVISION)[0]!, revision: '2023-02-22' };
    expect(() => getSource(stream.name).plan(params)).toThrow(/needs API revision/);
  });
});

describe('the stream list', () => {
  it('names each data_source once, and each stream reads the resource type its endpoint returns', () => {
    const names = STREAMS.map((stream) => stream.name);
    expect(new Set(names).size).toBe(names.length);
    for (const stream of STREAMS) {
      const fieldsets = Object.keys(CATALOG[endpointName(stream)].fieldEnums);
      expect({ stream: stream.name, fieldsets }).toEqual({
        stream: stream.name,
        fieldsets: expect.arrayContaining([stream.resourceType]),
      });
    }
  });
});
