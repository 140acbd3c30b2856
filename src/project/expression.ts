/**
 * A tiny, safe evaluator for the expressions Digdag templates use: dotted names, string / number /
 * null / true / false literals, `==` `!=` (`===` `!==`), `&&`, `||`, `!` and parentheses, with
 * JavaScript's meaning. No eval, no Function. Digdag runs `${...}` with `with(params){...}`, so an
 * unknown top-level name is an error, and reading a property of null/undefined is an error too.
 */

type Token =
  | { kind: 'name'; value: string }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'op'; value: string };

export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly reason: 'unknown-name' | 'null-property' | 'syntax',
  ) {
    super(message);
  }
}

const OPS = ['===', '!==', '==', '!=', '&&', '||', '!', '(', ')', '.'];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let value = '';
      i++;
      while (i < source.length && source[i] !== c) {
        if (source[i] === '\\' && i + 1 < source.length) {
          const next = source[i + 1]!;
          value += next === 'n' ? '\n' : next === 't' ? '\t' : next;
          i += 2;
        } else value += source[i++];
      }
      if (i >= source.length) throw new ExpressionError('unterminated string', 'syntax');
      i++;
      tokens.push({ kind: 'string', value });
      continue;
    }
    const num = /^\d+(?:\.\d+)?/.exec(source.slice(i));
    if (num) {
      tokens.push({ kind: 'number', value: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_$][\w$]*/.exec(source.slice(i));
    if (name) {
      tokens.push({ kind: 'name', value: name[0] });
      i += name[0].length;
      continue;
    }
    const op = OPS.find((o) => source.startsWith(o, i));
    if (!op) throw new ExpressionError(`unsupported character '${c}'`, 'syntax');
    tokens.push({ kind: 'op', value: op });
    i += op.length;
  }
  return tokens;
}

type Expr =
  | { type: 'literal'; value: unknown }
  | { type: 'ref'; name: string; props: string[] }
  | { type: 'not'; operand: Expr }
  | { type: 'binary'; op: string; left: Expr; right: Expr };

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Expr {
    const expr = this.or();
    if (this.pos < this.tokens.length)
      throw new ExpressionError('unexpected text after the expression', 'syntax');
    return expr;
  }

  private peekOp(...ops: string[]): string | undefined {
    const t = this.tokens[this.pos];
    return t?.kind === 'op' && ops.includes(t.value) ? t.value : undefined;
  }

  private or(): Expr {
    let left = this.and();
    while (this.peekOp('||')) {
      this.pos++;
      left = { type: 'binary', op: '||', left, right: this.and() };
    }
    return left;
  }

  private and(): Expr {
    let left = this.equality();
    while (this.peekOp('&&')) {
      this.pos++;
      left = { type: 'binary', op: '&&', left, right: this.equality() };
    }
    return left;
  }

  private equality(): Expr {
    let left = this.unary();
    for (let op = this.peekOp('==', '!=', '===', '!=='); op; op = this.peekOp('==', '!=', '===', '!==')) {
      this.pos++;
      left = { type: 'binary', op, left, right: this.unary() };
    }
    return left;
  }

  private unary(): Expr {
    if (this.peekOp('!')) {
      this.pos++;
      return { type: 'not', operand: this.unary() };
    }
    return this.primary();
  }

  private primary(): Expr {
    const t = this.tokens[this.pos++];
    if (!t) throw new ExpressionError('unexpected end of expression', 'syntax');
    if (t.kind === 'string' || t.kind === 'number') return { type: 'literal', value: t.value };
    if (t.kind === 'op' && t.value === '(') {
      const inner = this.or();
      if (!this.peekOp(')')) throw new ExpressionError("missing ')'", 'syntax');
      this.pos++;
      return inner;
    }
    if (t.kind === 'name') {
      if (t.value === 'null') return { type: 'literal', value: null };
      if (t.value === 'true') return { type: 'literal', value: true };
      if (t.value === 'false') return { type: 'literal', value: false };
      if (t.value === 'undefined') return { type: 'literal', value: undefined };
      const props: string[] = [];
      while (this.peekOp('.')) {
        this.pos++;
        const p = this.tokens[this.pos++];
        if (p?.kind !== 'name') throw new ExpressionError("expected a property name after '.'", 'syntax');
        props.push(p.value);
      }
      return { type: 'ref', name: t.value, props };
    }
    throw new ExpressionError(`unexpected '${t.value}'`, 'syntax');
  }
}

function looseEquals(a: unknown, b: unknown): boolean {
  if (a == null || b == null) return a == null && b == null;
  if (typeof a === typeof b) return a === b;
  const prim = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  if (prim(a) && prim(b)) return Number(a) === Number(b);
  return false;
}

function truthy(v: unknown): boolean {
  return Boolean(v);
}

function evaluate(expr: Expr, params: Readonly<Record<string, unknown>>): unknown {
  switch (expr.type) {
    case 'literal':
      return expr.value;
    case 'not':
      return !truthy(evaluate(expr.operand, params));
    case 'ref': {
      if (!Object.hasOwn(params, expr.name))
        throw new ExpressionError(`${expr.name} is not defined`, 'unknown-name');
      let value: unknown = params[expr.name];
      let at = expr.name;
      for (const prop of expr.props) {
        if (value == null) {
          throw new ExpressionError(
            `cannot read property "${prop}" of ${value === null ? 'null' : 'undefined'} (${at})`,
            'null-property',
          );
        }
        value =
          typeof value === 'object' && Object.hasOwn(value, prop)
            ? (value as Record<string, unknown>)[prop]
            : undefined;
        at += `.${prop}`;
      }
      return value;
    }
    case 'binary': {
      const left = evaluate(expr.left, params);
      switch (expr.op) {
        case '&&':
          return truthy(left) ? evaluate(expr.right, params) : left;
        case '||':
          return truthy(left) ? left : evaluate(expr.right, params);
        case '==':
          return looseEquals(left, evaluate(expr.right, params));
        case '!=':
          return !looseEquals(left, evaluate(expr.right, params));
        case '===':
          return left === evaluate(expr.right, params);
        default:
          return left !== evaluate(expr.right, params);
      }
    }
  }
}

/** Evaluate one expression (the text inside `${...}`); throws ExpressionError. */
export function evaluateExpression(source: string, params: Readonly<Record<string, unknown>>): unknown {
  return evaluate(new Parser(tokenize(source)).parse(), params);
}
