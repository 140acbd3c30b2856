/**
 * Klaviyo credentials: `KLAVIYO_API_KEY` / `KLAVIYO_REVISION` win; else `credentials_ingestion.json`
 * in the project folder, then its parent: `{klaviyo_api_token, klaviyo_revision_time,
 * accounts?: {<td_authentication_id>: {klaviyo_api_token, klaviyo_revision_time?}}}`.
 * Every key is registered with the redactor; no key is ever put in a message.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { configError } from '../util/errors.js';
import { registerSecret } from '../util/redact.js';

export const CREDENTIALS_FILE = 'credentials_ingestion.json';

const AccountSchema = z.looseObject({
  klaviyo_api_token: z.string().min(1),
  klaviyo_revision_time: z.string().optional(),
});

const CredentialsFileSchema = z.looseObject({
  klaviyo_api_token: z.string().optional(),
  klaviyo_revision_time: z.string().optional(),
  accounts: z.record(z.string(), AccountSchema).optional(),
});
type CredentialsFile = z.output<typeof CredentialsFileSchema>;

export interface ResolvedCredentials {
  apiKey: string;
  /** The configured revision, or null (the client then uses its default). */
  revision: string | null;
  /** Where the key came from, for messages: `env KLAVIYO_API_KEY` or the file path (never the key). */
  source: string;
  /** Where the revision came from (`env KLAVIYO_REVISION`, `<file> klaviyo_revision_time`), null = the default. */
  revisionSource: string | null;
}

/** A revision set in the environment or the credentials file, with where it is set (for validation). */
export interface ConfiguredRevision {
  value: string;
  /** The file (display path) or `(environment)`. */
  file: string;
  /** `KLAVIYO_REVISION`, `klaviyo_revision_time` or `accounts.<id>.klaviyo_revision_time`. */
  key: string;
}

export interface CredentialsResolver {
  /** The credentials file found (absolute path), or null. */
  readonly file: string | null;
  /** Warnings found while reading (e.g. file readable by others). */
  readonly warnings: readonly string[];
  /** Every API key the project knows (env + file), for secret scanning. Never print them. */
  readonly knownKeys: readonly string[];
  /** The revisions in force: KLAVIYO_REVISION when set (it wins), else those of the file. */
  readonly revisions: readonly ConfiguredRevision[];
  /** Credentials for one td_authentication_id (account entry, else the top-level pair). Throws when none. */
  resolve(tdAuthenticationId?: string | number | null): ResolvedCredentials;
}

/** `<dir>/credentials_ingestion.json`, else `<dir>/../credentials_ingestion.json`, else null. */
export function findCredentialsFile(projectDir: string): string | null {
  for (const dir of [path.resolve(projectDir), path.dirname(path.resolve(projectDir))]) {
    const candidate = path.join(dir, CREDENTIALS_FILE);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not there
    }
  }
  return null;
}

function readCredentialsFile(file: string, display: string): { data: CredentialsFile; warnings: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw configError(`cannot read credentials file: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, {
      code: 'CREDENTIALS_UNREADABLE',
      file: display,
      fix: 'Check the file permissions (chmod 600).',
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The JSON parser's message can quote the file's text (a key): never pass it on.
    throw configError('credentials file is not valid JSON', {
      code: 'CREDENTIALS_INVALID',
      file: display,
      fix: 'Write {"klaviyo_api_token": "pk_...", "klaviyo_revision_time": "2026-07-15"} (see credentials_ingestion.json.example).',
    });
  }
  const parsed = CredentialsFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw configError(
      `invalid credentials file at '${issue.path.join('.') || '(top level)'}' (expected ${issue.code === 'invalid_type' ? 'text' : 'a valid value'})`,
      {
        code: 'CREDENTIALS_INVALID',
        file: display,
        key: issue.path.join('.'),
        fix: 'Use {"klaviyo_api_token": "...", "klaviyo_revision_time": "...", "accounts": {"<td_authentication_id>": {...}}}.',
      },
    );
  }
  const data = parsed.data;
  registerSecret(data.klaviyo_api_token);
  for (const account of Object.values(data.accounts ?? {})) registerSecret(account.klaviyo_api_token);
  const warnings: string[] = [];
  try {
    const mode = statSync(file).mode;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      warnings.push(
        `${display} is readable by other users (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${display}`,
      );
    }
  } catch {
    // stat failed after read: ignore
  }
  return { data, warnings };
}

export function createCredentialsResolver(
  projectDir: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): CredentialsResolver {
  const envKey = env.KLAVIYO_API_KEY?.trim() || null;
  const envRevision = env.KLAVIYO_REVISION?.trim() || null;
  registerSecret(envKey);
  const file = findCredentialsFile(projectDir);
  const display = file ? path.relative(process.cwd(), file) || file : null;
  const loaded = file && display ? readCredentialsFile(file, display) : null;
  const data = loaded?.data ?? null;
  const knownKeys = [
    ...(envKey ? [envKey] : []),
    ...(data?.klaviyo_api_token ? [data.klaviyo_api_token] : []),
    ...Object.values(data?.accounts ?? {}).map((a) => a.klaviyo_api_token),
  ];
  const fileRevisions: ConfiguredRevision[] = display
    ? [
        ...(data?.klaviyo_revision_time
          ? [{ value: data.klaviyo_revision_time, file: display, key: 'klaviyo_revision_time' }]
          : []),
        ...Object.entries(data?.accounts ?? {}).flatMap(([id, a]) =>
          a.klaviyo_revision_time
            ? [{ value: a.klaviyo_revision_time, file: display, key: `accounts.${id}.klaviyo_revision_time` }]
            : [],
        ),
      ]
    : [];
  const revisions = envRevision
    ? [{ value: envRevision, file: '(environment)', key: 'KLAVIYO_REVISION' }]
    : fileRevisions;
  return {
    file,
    warnings: loaded?.warnings ?? [],
    knownKeys,
    revisions,
    resolve(tdAuthenticationId) {
      const id =
        tdAuthenticationId === undefined || tdAuthenticationId === null ? null : String(tdAuthenticationId);
      const account =
        id !== null && data?.accounts && Object.hasOwn(data.accounts, id) ? data.accounts[id] : undefined;
      const fileRevision = account?.klaviyo_revision_time ?? data?.klaviyo_revision_time ?? null;
      const revisionSource = envRevision
        ? 'env KLAVIYO_REVISION'
        : account?.klaviyo_revision_time
          ? `${display} accounts.${id}.klaviyo_revision_time`
          : fileRevision
            ? `${display} klaviyo_revision_time`
            : null;
      const revision = envRevision ?? fileRevision;
      if (envKey) return { apiKey: envKey, revision, source: 'env KLAVIYO_API_KEY', revisionSource };
      const key = account?.klaviyo_api_token ?? (data?.klaviyo_api_token || null);
      if (key && display) {
        return {
          apiKey: key,
          revision,
          source: account ? `${display} (accounts.${id})` : display,
          revisionSource,
        };
      }
      throw configError(
        file
          ? `no Klaviyo API key for td_authentication_id ${id ?? '(none)'} in the credentials file`
          : 'no Klaviyo API key: KLAVIYO_API_KEY is not set and no credentials_ingestion.json was found',
        {
          code: 'CREDENTIALS_MISSING',
          ...(display ? { file: display } : {}),
          fix: file
            ? `Add "klaviyo_api_token" (or "accounts": {"${id ?? '<id>'}": {"klaviyo_api_token": "..."}}) to the file, or set KLAVIYO_API_KEY.`
            : `Set KLAVIYO_API_KEY, or copy credentials_ingestion.json.example to ${path.join(projectDir, CREDENTIALS_FILE)} and fill it in.`,
        },
      );
    },
  };
}
