import { describe, expect, it } from 'vitest';
import { parseJsonApiBytes, parseJsonBytes } from '../../src/klaviyo/json-bytes.js';

/** parseJsonBytes must agree with JSON.parse of the decoded text: same value, or the same kind of error. */
function expectSameAsJsonParse(text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let expected: unknown;
  try {
    expected = JSON.parse(text);
  } catch (error) {
    expect(() => parseJsonBytes(bytes)).toThrow(SyntaxError);
    expect(error).toBeInstanceOf(SyntaxError);
    return;
  }
  const actual = parseJsonBytes(bytes);
  expect(actual).toStrictEqual(expected);
  expect(Object.keys(actual as object)).toEqual(Object.keys(expected as object));
}

describe('parseJsonBytes', () => {
  it('parses a JSON:API page member by member and element by element, as JSON.parse does', () => {
    const page = {
      data: Array.from({ length: 50 }, (_, i) => ({
        type: 'event',
        id: `ev${i}`,
        attributes: {
          datetime: '2026-01-01T00:00:00+00:00',
          event_properties: {
            Subject: i % 3 ? 'Neu: Frühlingskollektion 🌸' : 'quote " and \\ backslash \\" }]',
            nested: [{ type: 'x', items: [1, 2.5e3, -0, true, false, null] }, [], {}],
            unicodeEscape: 'caf\u00e9 \u2028 \ud83d\ude80',
            '': 'empty key',
          },
          timestamp: 1767225677 + i,
        },
        relationships: { metric: { data: { type: 'metric', id: 'M' } } },
      })),
      links: { self: 'https://a.klaviyo.com/api/events', next: null, prev: 'p' },
      included: [{ type: 'metric', id: 'M', attributes: { name: 'Placed Order' } }],
      meta: { count: 50, ok: true, nothing: null, list: [1, 'two', [3]] },
    };
    expectSameAsJsonParse(JSON.stringify(page));
    expectSameAsJsonParse(JSON.stringify(page, null, 2));
    expectSameAsJsonParse(`\r\n\t ${JSON.stringify(page, null, '\t')} \n`);
  });

  it.each([
    ['empty object', '{}'],
    ['empty object with whitespace', ' { } '],
    ['empty arrays', '{"data":[],"included":[ ]}'],
    ['scalars in an array', '{"data":[1, "a" ,true,null,-2.5e-3,{"b":[]}]}'],
    ['scalar members', '{"a":1,"b":"x","c":true,"d":null,"e":-0.5,"f":1e400}'],
    ['escaped key', '{"a\\"b\\u00e9":1,"\\\\":[2]}'],
    ['duplicate keys (the last wins)', '{"a":1,"b":2,"a":[3]}'],
    ['a key named __proto__', '{"__proto__":{"polluted":true},"data":[]}'],
    ['a top-level array', '[{"a":1},{"b":2}]'],
    ['a top-level string', '"text"'],
    ['a top-level number', ' 42 '],
    ['non-ASCII everywhere', '{"名前":["🚀","é",{"ü":"ß"}]}'],
  ])('agrees with JSON.parse: %s', (_name, text) => expectSameAsJsonParse(text));

  it.each([
    ['truncated page', '{"data":[{"a":1},{"b":'],
    ['truncated in a string', '{"data":[{"a":"abc'],
    ['missing comma between elements', '{"data":[{"a":1} {"b":2}]}'],
    ['trailing comma in an array', '{"data":[1,2,]}'],
    ['trailing comma in the object', '{"data":[1],}'],
    ['missing colon', '{"data" [1]}'],
    ['garbage after the object', '{"data":[]} x'],
    ['two objects', '{}{}'],
    ['invalid element', '{"data":[{"a":01}]}'],
    ['invalid member', '{"links":{"a":tru}}'],
    ['unquoted key', '{data:[]}'],
    ['empty body', ''],
    ['HTML', '<html><body>proxy</body></html>'],
    ['a byte-order mark', '\ufeff{"data":[]}'],
  ])('throws SyntaxError where JSON.parse does: %s', (_name, text) => expectSameAsJsonParse(text));

  it('gives the prototype no __proto__ member assignment: the object is what JSON.parse makes', () => {
    const parsed = parseJsonBytes(Buffer.from('{"__proto__":{"x":1}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
    expect((parsed as { x?: unknown }).x).toBeUndefined();
  });

  it('decodes invalid UTF-8 the way Buffer#toString does (replacement characters)', () => {
    const bytes = Buffer.concat([Buffer.from('{"data":["a'), Buffer.from([0xff, 0xc3]), Buffer.from('"]}')]);
    expect(parseJsonBytes(bytes)).toStrictEqual(JSON.parse(bytes.toString('utf8')));
  });
});

/**
 * What parseJsonApiBytes must return, built the plain way: JSON.parse of the whole text, then the
 * links of every resource in `data` and `included` and of their relationships deleted.
 */
function parsedWithoutResourceLinks(text: string): unknown {
  const doc = JSON.parse(text) as Record<string, unknown>;
  for (const member of ['data', 'included']) {
    const value = doc[member];
    for (const resource of Array.isArray(value) ? value : [value]) {
      if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) continue;
      delete resource.links;
      for (const relationship of Object.values(resource.relationships ?? {}))
        if (typeof relationship === 'object' && relationship !== null)
          delete (relationship as { links?: unknown }).links;
    }
  }
  return doc;
}

function expectResourcesWithoutLinks(text: string): void {
  const expected = parsedWithoutResourceLinks(text);
  const actual = parseJsonApiBytes(Buffer.from(text, 'utf8'));
  expect(actual).toStrictEqual(expected);
  // Same key order as JSON.parse, resource by resource.
  expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
}

describe('parseJsonApiBytes', () => {
  const event = (i: number) => ({
    type: 'event',
    id: `ev${i}`,
    attributes: {
      datetime: '2026-01-01T00:00:00+00:00',
      event_properties: { links: 'kept: an attribute', n: i },
    },
    relationships: {
      profile: {
        data: { type: 'profile', id: `p${i}` },
        links: { self: `https://a.klaviyo.com/api/events/ev${i}/relationships/profile/`, related: 'r' },
      },
      attributions: { links: { self: 's', related: 'r' } },
      metric: { links: { self: 's' }, data: { type: 'metric', id: 'M' }, meta: { links: 'kept' } },
    },
    links: { self: `https://a.klaviyo.com/api/events/ev${i}/` },
  });

  it('leaves out the links of each resource and relationship, and keeps everything else as JSON.parse does', () => {
    const page = {
      data: Array.from({ length: 20 }, (_, i) => event(i)),
      included: [{ type: 'metric', id: 'M', attributes: { name: 'Frühling 🌸' }, links: { self: 'x' } }],
      links: { self: 'https://a.klaviyo.com/api/events', next: 'https://a.klaviyo.com/api/events?page=2' },
    };
    expectResourcesWithoutLinks(JSON.stringify(page));
    expectResourcesWithoutLinks(JSON.stringify(page, null, 2));
  });

  it('joins resources larger than its buffer (a template of 100 KB, one of 1.5 MB) and small ones after them', () => {
    const template = (id: string, size: number) => ({
      type: 'template',
      id,
      attributes: { html: `<p>${'é'.repeat(size / 2)}</p>` },
      links: { self: `https://a.klaviyo.com/api/templates/${id}/` },
    });
    for (const size of [100_000, 1_500_000, 10])
      expectResourcesWithoutLinks(JSON.stringify({ data: [template('a', size), template('b', 10)] }));
  });

  it.each([
    ['links first', '{"data":[{"links":{"self":"s"},"type":"t","id":"1"}]}'],
    ['links only', '{"data":[{"links":{"self":"s"}}, { "links" : 1 } ]}'],
    ['links twice', '{"data":[{"links":1,"links":2,"id":"1"},{"id":"2","links":1, "links":2}]}'],
    [
      'a relationship of only links',
      '{"data":[{"id":"1","relationships":{"a":{"links":{}},"b":null,"c":[]}}]}',
    ],
    [
      'links before relationships',
      '{"data":[{"links":{"a":"}"},"relationships":{"r":{"data":null,"links":{}}},"x":1}]}',
    ],
    ['a single resource', '{"data":{"id":"1","links":{"self":"s"},"relationships":{"r":{"links":{}}}}}'],
    ['scalars and arrays in data', '{"data":[1,"links",[{"links":1}],null],"included":[]}'],
    [
      'links elsewhere are kept',
      '{"data":[],"links":{"next":null},"meta":{"links":1},"errors":[{"links":1}]}',
    ],
    [
      'a page the scan leaves to JSON.parse',
      '{"__proto__":1,"data":[{"id":"1","links":{},"relationships":{"r":{"links":1}}}]}',
    ],
    [
      'a key that only starts like links',
      '{"data":[{"linksX":1,"link":2,"relationships":{"r":{"linkz":3}}}]}',
    ],
  ])('agrees with JSON.parse less the resource links: %s', (_name, text) =>
    expectResourcesWithoutLinks(text),
  );

  it.each([
    ['truncated in a resource', '{"data":[{"id":"1","links":{"self":"s"'],
    ['a bad value after the links', '{"data":[{"links":{},"id":tru}]}'],
    ['a missing colon in a relationship', '{"data":[{"relationships":{"r" {}}}]}'],
  ])('throws SyntaxError where JSON.parse does: %s', (_name, text) => {
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
    expect(() => parseJsonApiBytes(Buffer.from(text))).toThrow(SyntaxError);
  });
});
