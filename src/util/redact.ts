/**
 * API keys must never reach a log, an error, a table or stdout. Every text that leaves the
 * process through our code passes `redact` with the keys in play registered here.
 */
const secrets = new Set<string>();

export function registerSecret(secret: string | undefined | null): void {
  if (secret && secret.length >= 4) secrets.add(secret);
}

const KEY_PATTERN = /\bpk_[A-Za-z0-9_]{6,}/g;
const AUTH_HEADER_PATTERN = /(Klaviyo-API-Key\s+)[^\s"',]+/gi;

export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('***');
  return out.replace(AUTH_HEADER_PATTERN, '$1***').replace(KEY_PATTERN, 'pk_***');
}
