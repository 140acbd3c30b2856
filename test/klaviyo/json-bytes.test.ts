import { describe, expect, it } from 'vitest';
import { parseJsonBytes } from '../../src/klaviyo/json-bytes.js';

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
