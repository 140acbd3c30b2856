/** Checking parsed YAML against a zod schema; the first problem becomes an IngestError with file, key, line, fix. */
import type { z } from 'zod';
import { configError } from '../util/errors.js';
import { formatPath, type YamlFile, type YamlPath } from './yaml.js';

export function parseWith<T extends z.ZodType>(
  schema: T,
  value: unknown,
  source: Pick<YamlFile, 'file' | 'lineOf'>,
  options: { at?: YamlPath; fix: string; code?: string },
): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const at = [...(options.at ?? []), ...(issue.path as (string | number)[])];
  const key = formatPath(at);
  const line = source.lineOf(at);
  const missing = issue.code === 'invalid_type' && issue.message.includes('received undefined');
  throw configError(
    missing
      ? `missing required key '${key}'`
      : `invalid value at '${key || '(top level)'}': ${issue.message}`,
    {
      code: options.code ?? (missing ? 'CONFIG_KEY_MISSING' : 'CONFIG_INVALID'),
      file: source.file,
      ...(key ? { key } : {}),
      ...(line === undefined ? {} : { line }),
      fix: options.fix,
    },
  );
}
