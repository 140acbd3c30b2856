import { describe, expect, it } from 'vitest';
import { parseJsonApiBytes, parseJsonBytes } from '../../src/klaviyo/json-bytes.js';
import { RawJson } from '../../src/util/raw-json.js';

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

describe('parseJsonApiBytes with rawJsonAttributes', () => {
  const parseRaw = (text: string) =>
    parseJsonApiBytes(Buffer.from(text, 'utf8'), { rawJsonAttributes: true });

  /** Every RawJson in the parsed page, with the attribute it stands for. */
  function rawValues(doc: unknown): RawJson[] {
    const found: RawJson[] = [];
    const { data, included } = doc as { data?: unknown; included?: unknown };
    for (const list of [data, included])
      for (const resource of Array.isArray(list) ? list : [])
        for (const value of Object.values((resource as { attributes?: object }).attributes ?? {}))
          if (value instanceof RawJson) found.push(value);
    return found;
  }

  /**
   * Object and array attributes come as RawJson holding exactly their text; with each read back, the
   * page is what JSON.parse less the resource links gives, in the same key order.
   */
  function expectRawAttributes(text: string, expectedRaw: number): void {
    const input = Buffer.from(text, 'utf8');
    const actual = parseJsonApiBytes(input, { rawJsonAttributes: true });
    const raws = rawValues(actual);
    expect(raws).toHaveLength(expectedRaw);
    const texts = raws.map((raw) => raw.text);
    for (const raw of texts) expect(text).toContain(raw);
    // Its own bytes: the body's buffer is reused for the next page.
    input.fill(0x20);
    expect(raws.map((raw) => raw.text)).toEqual(texts);
    const expected = parsedWithoutResourceLinks(text);
    // With each RawJson parsed in its place, the page is JSON.parse's, keys in the same order.
    for (const list of Object.values(actual as Record<string, unknown>))
      for (const resource of Array.isArray(list) ? list : []) {
        const attributes = (resource as { attributes?: Record<string, unknown> }).attributes ?? {};
        for (const [key, value] of Object.entries(attributes))
          if (value instanceof RawJson) attributes[key] = JSON.parse(value.text);
      }
    expect(actual).toStrictEqual(expected);
    expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
  }

  const event = (i: number, properties: string) =>
    `{"type":"event","id":"ev${i}","attributes":{"timestamp":${i},"event_properties":${properties},"datetime":"2026-01-01T00:00:00+00:00"},"relationships":{"profile":{"data":{"type":"profile","id":"p"},"links":{"self":"s"}}},"links":{"self":"s"}}`;

  it('keeps object and array attributes as their exact text, in their place among the others', () => {
    const values = [
      '{"Subject":"Neu: Frühlingskollektion 🌸","$value":12.5,"items":[{"a":[1,2.5e3,-0,true,false,null]},[],{}]}',
      '{"q":"quote \\" and \\\\ backslash \\" }]","esc":"caf\\u00e9 \\ud83d\\ude80 \\/ \\b\\f\\n\\r\\t"}',
      '[ 1 , -0.5E+10 , 1e-2 , "x" , [ ] , { } ]',
      '{}',
      '[]',
      '{ "": { "": [ ] } }',
      `${'['.repeat(40)}0${']'.repeat(40)}`,
    ];
    const page = `{"data":[${values.map((v, i) => event(i, v)).join(',')}],"included":[{"type":"metric","id":"M","attributes":{"name":"Placed Order","integration":{"name":"Shopify","category":"eCommerce"}},"links":{"self":"s"}}],"links":{"next":null}}`;
    expectRawAttributes(page, values.length + 1);
    const first = rawValues(parseRaw(page))[0]!;
    expect(first.text).toBe(values[0]);
  });

  it('finds the end of long strings with escaped quotes and runs of backslashes at any offset', () => {
    // Strings are walked byte by byte for their first 32 bytes and searched natively after that.
    const texts: string[] = [];
    for (let offset = 0; offset < 70; offset++)
      for (const tail of ['"', '\\', '\\"', '\\\\', '\\\\"x', '}]"{['])
        texts.push(`${'a'.repeat(offset)}${tail}${'b'.repeat(offset % 7)}`);
    const page = {
      data: texts.map((text, i) => ({
        id: String(i),
        attributes: { text, props: { text, [text]: [text] } },
        relationships: { r: { links: { self: text, related: `${text}/` } } },
        links: { self: `https://a.klaviyo.com/api/x/${text}` },
      })),
    };
    // Every resource's props as RawJson: the scan itself found every end (a page it cannot take apart
    // would be parsed whole, without RawJson).
    expectRawAttributes(JSON.stringify(page), texts.length);
  });

  it("gathers a page's values past the size of its reused buffer (256 KB, kept up to 4 MB), page after page", () => {
    const many = `{"data":[${Array.from({ length: 2000 }, (_, i) => event(i, `{"i":${i},"pad":"${'x'.repeat(200)}"}`)).join(',')}]}`;
    const huge = `{"data":[${[0, 1, 2].map((i) => event(i, `["${'é'.repeat(1_000_000)}",${i}]`)).join(',')}]}`;
    for (const text of [many, huge, many]) expectRawAttributes(text, text === many ? 2000 : 3);
  });

  it('keeps an attribute named links, and scalars and nulls as JSON.parse gives them', () => {
    expectRawAttributes(
      '{"data":[{"id":"1","attributes":{"links":{"self":"an attribute"},"n":1,"s":"x","z":null,"b":false}}]}',
      1,
    );
  });

  it.each([
    ['an object, then a scalar', '{"data":[{"id":"1","attributes":{"a":{"x":1},"a":2}}]}', 0],
    ['a scalar, then an object', '{"data":[{"id":"1","attributes":{"a":2,"a":{"x":1}}}]}', 1],
    ['two objects', '{"data":[{"id":"1","attributes":{"a":{"x":1},"b":0,"a":[2]}}]}', 1],
    ['an escaped key', '{"data":[{"id":"1","attributes":{"a\\"b\\u00e9":{"x":1}}}]}', 1],
  ])('gives duplicate and escaped keys what JSON.parse gives them: %s', (_name, text, raws) =>
    expectRawAttributes(text, raws),
  );

  it('parses the page whole, without RawJson, when an attribute is called __proto__ or the body is not UTF-8', () => {
    const proto = '{"data":[{"id":"1","attributes":{"__proto__":{"x":1},"y":[1]}}]}';
    const parsed = parseRaw(proto);
    expect(rawValues(parsed)).toEqual([]);
    expect(parsed).toStrictEqual(JSON.parse(proto));
    const invalid = Buffer.concat([
      Buffer.from('{"data":[{"id":"1","attributes":{"p":{"s":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}}}]}'),
    ]);
    const fromInvalid = parseJsonApiBytes(invalid, { rawJsonAttributes: true });
    expect(rawValues(fromInvalid)).toEqual([]);
    expect(fromInvalid).toStrictEqual(JSON.parse(invalid.toString('utf8')));
  });

  it('gives no RawJson without the option', () => {
    expect(rawValues(parseJsonApiBytes(Buffer.from(`{"data":[${event(1, '{"a":1}')}]}`)))).toEqual([]);
  });

  it.each([
    'tru',
    '{"a":tru}',
    '[1,]',
    '{"a":1,}',
    '{"a" 1}',
    '{1:2}',
    "{'a':1}",
    '[01]',
    '[1.]',
    '[.5]',
    '[+1]',
    '[-]',
    '[1e]',
    '[1e+]',
    '[NaN]',
    '[Infinity]',
    '["\\x"]',
    '["\\u12"]',
    '["\\u12g4"]',
    '["tab\there"]',
    '["line\nbreak"]',
    '[1 2]',
    '{"a":1 "b":2}',
    '[[1]',
    '{"a":{"b":1}',
    '[nul]',
    '[truex]',
  ])('throws SyntaxError, as JSON.parse does, for an invalid attribute value: %s', (value) => {
    const text = `{"data":[${event(1, value)}]}`;
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
    expect(() => parseRaw(text)).toThrow(SyntaxError);
  });
});
