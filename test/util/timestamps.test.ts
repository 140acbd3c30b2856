import { describe, expect, it } from 'vitest';
import {
  formatFilterTime,
  formatTemplateTime,
  isTemplateTime,
  parseTimestamp,
} from '../../src/util/timestamps.js';

describe('timestamps', () => {
  it('reads every format Klaviyo writes or accepts as the same instant', () => {
    const expected = Date.UTC(2025, 8, 3, 10, 11, 12);
    for (const text of [
      '2025-09-03T10:11:12+00:00',
      '2025-09-03 10:11:12+00:00',
      '2025-09-03T10:11:12Z',
      '2025-09-03T10:11:12',
      '2025-09-03T10:11:12.000000',
      '2025-09-03T19:11:12+09:00',
      '2025-09-03T05:11:12-0500',
      '2025-09-03 10:11:12 UTC',
    ]) {
      expect(parseTimestamp(text), text).toBe(expected);
    }
    expect(parseTimestamp('2025-09-03T10:11:12.710Z')).toBe(expected + 710);
    expect(parseTimestamp('2025-09-03T10:11:12.710123+00:00')).toBe(expected + 710);
    expect(parseTimestamp('2024-02-29T10:11:12+00:00')).toBe(Date.UTC(2024, 1, 29, 10, 11, 12));
    expect(parseTimestamp('2025-09-03')).toBe(Date.UTC(2025, 8, 3));
  });

  it('rejects what is not a timestamp', () => {
    for (const text of [
      '',
      'yesterday',
      '2025-13-01',
      '2025-02-30T00:00:00',
      '2025-09-03T25:00:00',
      '2025/09/03',
    ]) {
      expect(parseTimestamp(text), text).toBeNull();
    }
  });

  it('writes the template format: UTC, whole seconds cut, six decimals, T, no Z', () => {
    expect(formatTemplateTime(Date.UTC(2025, 8, 3, 10, 11, 12, 999))).toBe('2025-09-03T10:11:12.000000');
    expect(isTemplateTime('2025-09-03T10:11:12.000000')).toBe(true);
    for (const bad of [
      '2025-09-03T10:11:12Z',
      '2025-09-03 10:11:12.000000',
      '2025-09-03T10:11:12.000',
      '2025-09-03T10:11:12.000000Z',
    ]) {
      expect(isTemplateTime(bad), bad).toBe(false);
    }
  });

  it('writes filter datetimes with Z and milliseconds only when present', () => {
    expect(formatFilterTime(Date.UTC(2025, 8, 3, 10, 11, 12))).toBe('2025-09-03T10:11:12Z');
    expect(formatFilterTime(Date.UTC(2025, 8, 3, 10, 11, 12, 5))).toBe('2025-09-03T10:11:12.005Z');
  });
});
