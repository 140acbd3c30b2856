import { RawJson } from '../util/raw-json.js';

/** JSON text for object and array values, with bigints written as plain JSON numbers. */
export function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  try {
    return JSON.stringify(value) ?? 'null';
  } catch (error) {
    if (error instanceof TypeError) return stringifyWithBigints(value);
    throw error;
  }
}

function stringifyWithBigints(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? 'null' : stringifyWithBigints(item))).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const parts: string[] = [];
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined || typeof item === 'function') continue;
      parts.push(`${JSON.stringify(key)}:${stringifyWithBigints(item)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A value as the text of a text column: scalars as written, objects and arrays as JSON. */
export function asText(value: unknown): string {
  switch (typeof value) {
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(value);
    default:
      return toJsonText(value);
  }
}
