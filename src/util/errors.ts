/**
 * One error type for everything the user can act on. `kind` decides the exit code:
 * config problems (bad project files, bad flags) exit 2, ingestion failures exit 1.
 * The message is written for a person: what happened, where (file / key / source), and the fix.
 */
export type ErrorKind = 'config' | 'ingestion';

export interface IngestErrorOptions {
  /** Stable machine-readable code, e.g. `CONFIG_YAML_SYNTAX`, `KLAVIYO_AUTH`. */
  code: string;
  kind: ErrorKind;
  /** The file the problem is in, when there is one. */
  file?: string;
  /** The key (dotted path) inside that file. */
  key?: string;
  /** 1-based line in `file`, when the parser reports one. */
  line?: number;
  /** What to do about it. */
  fix?: string;
  cause?: unknown;
}

export class IngestError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly file: string | undefined;
  readonly key: string | undefined;
  readonly line: number | undefined;
  readonly fix: string | undefined;

  constructor(message: string, options: IngestErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IngestError';
    this.code = options.code;
    this.kind = options.kind;
    this.file = options.file;
    this.key = options.key;
    this.line = options.line;
    this.fix = options.fix;
  }

  get exitCode(): number {
    return exitCodeFor(this.kind);
  }

  /** One paragraph: location, message, fix. */
  render(): string {
    const where = [
      this.file,
      this.line === undefined ? undefined : `line ${this.line}`,
      this.key && `key '${this.key}'`,
    ]
      .filter(Boolean)
      .join(', ');
    const head = where ? `${where}: ${this.message}` : this.message;
    return this.fix ? `${head}\n  fix: ${this.fix}` : head;
  }
}

function exitCodeFor(kind: ErrorKind): number {
  return kind === 'config' ? 2 : 1;
}

export function configError(message: string, options: Omit<IngestErrorOptions, 'kind'>): IngestError {
  return new IngestError(message, { ...options, kind: 'config' });
}

export function ingestionError(message: string, options: Omit<IngestErrorOptions, 'kind'>): IngestError {
  return new IngestError(message, { ...options, kind: 'ingestion' });
}

export function errorMessage(error: unknown): string {
  if (error instanceof IngestError) return error.render();
  if (error instanceof Error) return error.message;
  return String(error);
}
