/** What jsonb refuses in JSON text becomes U+FFFD; everything else, escaped surrogate pairs too, stays. */
import { describe, expect, it } from 'vitest';
import { RawJson } from '../../src/util/raw-json.js';
import { jsonbText } from '../../src/warehouse/postgres/postgres-sql.js';

const raw = (text: string) => new RawJson(Buffer.from(text));

describe('jsonbText', () => {
  it('replaces NUL and unpaired surrogates that JSON.stringify writes as escapes', () => {
    expect(jsonbText({ nul: 'z\u0000', lone: '\ud800', low: '\udc00x', pair: '🌸' })).toBe(
      '{"nul":"z\\ufffd","lone":"\\ufffd","low":"\\ufffdx","pair":"🌸"}',
    );
  });

  it("keeps a surrogate pair written as two escapes (the API's own text), and replaces a lone half", () => {
    expect(jsonbText(raw('["\\ud83c\\udf38","\\uD83C\\uDF38","\\ud83c","x\\udf38","\\udf38\\ud83c"]'))).toBe(
      '["\\ud83c\\udf38","\\uD83C\\uDF38","\\ufffd","x\\ufffd","\\ufffd\\ufffd"]',
    );
  });

  it('reads an escaped backslash before u as text, not as an escape', () => {
    expect(jsonbText(raw('["\\\\u0000","\\\\\\u0000","\\\\ud800"]'))).toBe(
      '["\\\\u0000","\\\\\\ufffd","\\\\ud800"]',
    );
  });

  it('leaves text without \\u as it is', () => {
    const text = '{"a":"café 🌸","b":[1,2]}';
    expect(jsonbText(raw(text))).toBe(text);
  });
});
