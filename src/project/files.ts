/** Reading files of one project folder: relative paths, a cache of parsed YAML, errors that name the file. */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { configError } from '../util/errors.js';
import { parseYamlFile, type YamlFile } from './yaml.js';

export class ProjectFiles {
  readonly dir: string;
  private readonly yamlCache = new Map<string, YamlFile>();

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  /** Absolute path of a project-relative path. */
  abs(rel: string): string {
    return path.join(this.dir, rel);
  }

  exists(rel: string): boolean {
    try {
      return statSync(this.abs(rel)).isFile();
    } catch {
      return false;
    }
  }

  read(rel: string, fix?: string): string {
    try {
      return readFileSync(this.abs(rel), 'utf8');
    } catch (cause) {
      const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
      throw configError(missing ? 'file not found' : `cannot read file: ${(cause as Error).message}`, {
        code: missing ? 'FILE_MISSING' : 'FILE_UNREADABLE',
        file: rel,
        fix:
          fix ??
          (missing
            ? `Create ${rel} (klaviyo-ingest init writes a template of it).`
            : 'Check the file permissions.'),
        cause,
      });
    }
  }

  /** Parsed YAML of a project file, cached; `includes` turns on Digdag's `!include :` key rewriting. */
  yaml(rel: string, options: { includes?: boolean; fix?: string } = {}): YamlFile {
    const cached = this.yamlCache.get(rel);
    if (cached) return cached;
    const parsed = parseYamlFile(rel, this.read(rel, options.fix), { includes: options.includes ?? false });
    this.yamlCache.set(rel, parsed);
    return parsed;
  }

  /** Every YAML file parsed so far, by relative path (validation uses them to find lines). */
  parsed(rel: string): YamlFile | undefined {
    return this.yamlCache.get(rel);
  }
}
