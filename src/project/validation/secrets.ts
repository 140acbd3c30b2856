/** API keys stay out of the project files; the credentials file is git-ignored and private. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CREDENTIALS_FILE, findCredentialsFile } from '../credentials.js';
import type { RuleContext, RuleGroup } from './types.js';

const KEY_PATTERN = /\bpk_[A-Za-z0-9]{20,}/;
const TOKEN_ASSIGNMENT = /["']?klaviyo_api_token["']?\s*[:=]\s*["']?([^\s"',}]+)/;
const SKIP_DIRS = new Set(['.git', 'node_modules', '.digdag']);
const MAX_BYTES = 2_000_000;

function walk(dir: string, out: string[], depth = 0): void {
  if (depth > 8) return;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries.sort()) {
    const full = path.join(dir, name);
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(full);
    } catch {
      continue;
    }
    if (stat.isDirectory()) {
      if (!SKIP_DIRS.has(name)) walk(full, out, depth + 1);
    } else if (stat.isFile() && stat.size <= MAX_BYTES) out.push(full);
  }
}

function lineOfOffset(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Whether the .gitignore at `gitignoreDir` ignores `file` (a small subset of gitignore: globs, /, **, !). */
export function gitignoreIgnores(gitignoreDir: string, file: string): boolean {
  let text: string;
  try {
    text = readFileSync(path.join(gitignoreDir, '.gitignore'), 'utf8');
  } catch {
    return false;
  }
  const rel = path.relative(gitignoreDir, file).split(path.sep).join('/');
  if (rel.startsWith('..')) return false;
  let ignored = false;
  for (const rawLine of text.split(/\r?\n/)) {
    let line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1);
    line = line.replace(/\/$/, '');
    const anchored = line.includes('/') && !line.startsWith('**/');
    const pattern = globToRegExp(line.replace(/^\//, ''));
    const matches = anchored
      ? pattern.test(rel)
      : pattern.test(rel) || rel.split('/').some((part) => pattern.test(part));
    if (matches) ignored = !negate;
  }
  return ignored;
}

function display(ctx: RuleContext, abs: string): string {
  const rel = path.relative(ctx.snapshot.dir, abs).split(path.sep).join('/');
  return rel.startsWith('..') ? abs : rel;
}

export const secretRules: RuleGroup = {
  name: 'secrets',
  codes: ['API_KEY_IN_PROJECT', 'CREDENTIALS_NOT_IGNORED', 'CREDENTIALS_PERMISSIONS'],
  check(ctx) {
    const { dir } = ctx.snapshot;
    const credentialsFile = findCredentialsFile(dir);
    const known = (ctx.snapshot.credentials?.knownKeys ?? []).filter((k) => k.length >= 8);
    const files: string[] = [];
    walk(dir, files);
    for (const abs of files) {
      if (abs === credentialsFile) continue;
      let text: string;
      try {
        text = readFileSync(abs, 'utf8');
      } catch {
        continue;
      }
      if (text.includes('\u0000')) continue;
      const example = abs.endsWith('.example');
      const assignment = example ? null : TOKEN_ASSIGNMENT.exec(text);
      const pattern = KEY_PATTERN.exec(text);
      const knownAt = known.map((k) => text.indexOf(k)).find((i) => i >= 0);
      const offset = pattern?.index ?? knownAt ?? assignment?.index;
      if (offset === undefined) continue;
      ctx.report({
        code: 'API_KEY_IN_PROJECT',
        severity: 'error',
        file: display(ctx, abs),
        line: lineOfOffset(text, offset),
        message: `${display(ctx, abs)} contains a Klaviyo API key (value hidden)`,
        fix: `Move the key to ${CREDENTIALS_FILE} (git-ignored) or the KLAVIYO_API_KEY environment variable, and rotate it if it was committed.`,
      });
    }
    if (!credentialsFile) return;
    const credDir = path.dirname(credentialsFile);
    const candidates = [credDir, ...(credDir === dir ? [path.dirname(dir)] : [])];
    if (!candidates.some((d) => gitignoreIgnores(d, credentialsFile))) {
      ctx.report({
        code: 'CREDENTIALS_NOT_IGNORED',
        severity: 'error',
        file: display(ctx, credentialsFile),
        message: `${CREDENTIALS_FILE} is not ignored by a .gitignore in the project or its parent folder`,
        fix: `Add a line "${CREDENTIALS_FILE}" to ${path.join(display(ctx, credDir) || '.', '.gitignore')}.`,
      });
    }
    for (const warning of ctx.snapshot.credentials?.warnings ?? []) {
      ctx.report({
        code: 'CREDENTIALS_PERMISSIONS',
        severity: 'warning',
        file: display(ctx, credentialsFile),
        message: warning,
        fix: `chmod 600 ${display(ctx, credentialsFile)}`,
      });
    }
  },
};
