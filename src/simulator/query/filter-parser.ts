import { invalidFilter } from '../http/errors.js';
import { parseFilterDatetime } from './datetime.js';

/** A literal in a filter expression. */
export type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'datetime'; ms: number; text: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'list'; items: Literal[] };

/** One comparison `op(field,value)` (value absent for `has`). */
export interface Condition {
  op: string;
  field: string;
  value: Literal | undefined;
}

const OPERATORS = new Set([
  'equals',
  'less-than',
  'less-or-equal',
  'greater-than',
  'greater-or-equal',
  'contains',
  'contains-any',
  'contains-all',
  'ends-with',
  'starts-with',
  'any',
  'has',
]);

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  fail(): never {
    throw invalidFilter();
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  expect(ch: string): void {
    if (this.text[this.pos] !== ch) this.fail();
    this.pos++;
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  /** expr (',' expr)* up to the end */
  parseTop(): Condition[] {
    const out: Condition[] = [];
    out.push(...this.parseExpr());
    while (this.peek() === ',') {
      this.pos++;
      out.push(...this.parseExpr());
    }
    if (!this.atEnd()) this.fail();
    return out;
  }

  private ident(): string {
    const m = /^[A-Za-z_$][A-Za-z0-9_.$-]*/.exec(this.text.slice(this.pos));
    if (!m) this.fail();
    this.pos += m[0].length;
    return m[0];
  }

  parseExpr(): Condition[] {
    const name = this.ident();
    this.expect('(');
    if (name === 'and') {
      const out: Condition[] = [...this.parseExpr()];
      while (this.peek() === ',') {
        this.pos++;
        out.push(...this.parseExpr());
      }
      this.expect(')');
      return out;
    }
    if (name === 'or' || name === 'not') {
      throw invalidFilter(`'${name}' is not an allowed filter operation for this resource.`);
    }
    if (!OPERATORS.has(name)) this.fail();
    const field = this.ident();
    if (name === 'has') {
      this.expect(')');
      return [{ op: name, field, value: undefined }];
    }
    this.expect(',');
    const value = this.literal();
    this.expect(')');
    return [{ op: name, field, value }];
  }

  private literal(): Literal {
    const ch = this.peek();
    if (ch === '"' || ch === "'") return { kind: 'string', value: this.quoted(ch) };
    if (ch === '[') {
      this.pos++;
      const items: Literal[] = [];
      if (this.peek() !== ']') {
        items.push(this.literal());
        while (this.peek() === ',') {
          this.pos++;
          items.push(this.literal());
        }
      }
      this.expect(']');
      return { kind: 'list', items };
    }
    const m = /^[^,()[\]'"]+/.exec(this.text.slice(this.pos));
    if (!m) this.fail();
    this.pos += m[0].length;
    return bare(m[0]) ?? this.fail();
  }

  private quoted(q: string): string {
    this.pos++;
    let out = '';
    while (!this.atEnd()) {
      const c = this.text[this.pos++] as string;
      if (c === '\\' && !this.atEnd()) {
        out += this.text[this.pos++];
      } else if (c === q) {
        return out;
      } else {
        out += c;
      }
    }
    return this.fail();
  }
}

function bare(raw: string): Literal | null {
  const token = raw.trim();
  if (token === 'true') return { kind: 'boolean', value: true };
  if (token === 'false') return { kind: 'boolean', value: false };
  if (token === 'null') return { kind: 'null' };
  if (/^-?\d+(\.\d+)?$/.test(token)) return { kind: 'number', value: Number(token) };
  const ms = parseFilterDatetime(token);
  if (ms !== null) return { kind: 'datetime', ms, text: token };
  return null;
}

/** Parses `filter=`: top-level comma list and `and(...)` flatten to a conjunction. Throws ApiError 400. */
export function parseFilter(text: string): Condition[] {
  if (text.trim() === '') throw invalidFilter();
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(') depth++;
    else if (c === ')' && --depth < 0) break;
  }
  if (depth !== 0 || quote) throw invalidFilter();
  return new Parser(text).parseTop();
}
