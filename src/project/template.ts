/**
 * Filling `${...}` the way Digdag does: text outside is copied as is; each expression's value
 * becomes '' for null/undefined, itself for a string, JSON text for anything else (true -> "true").
 * `${secret:...}` (any `${word:`) is left untouched. Errors name the file and the expression.
 */
import { configError } from '../util/errors.js';
import { ExpressionError, evaluateExpression } from './expression.js';

export type TemplateParams = Readonly<Record<string, unknown>>;

export interface TemplateContext {
  /** The project file the text comes from. */
  file: string;
  /** The key (dotted path) holding the text, when it is one value. */
  key?: string;
  line?: number;
}

function renderValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** Find the `${...}` spans of `text` (braces inside are matched, quotes respected). */
function templateSpans(text: string): { start: number; end: number; expr: string }[] {
  const spans: { start: number; end: number; expr: string }[] = [];
  let i = text.indexOf('${');
  while (i !== -1) {
    let depth = 1;
    let j = i + 2;
    let quote: string | null = null;
    for (; j < text.length && depth > 0; j++) {
      const c = text[j];
      if (quote) {
        if (c === '\\') j++;
        else if (c === quote) quote = null;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '{') depth++;
      else if (c === '}') depth--;
    }
    if (depth > 0) break;
    spans.push({ start: i, end: j, expr: text.slice(i + 2, j - 1) });
    i = text.indexOf('${', j);
  }
  return spans;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset; k++) if (text.charCodeAt(k) === 10) line++;
  return line;
}

/** Evaluate one expression with Digdag's rules; errors name the file and the expression. */
function evaluateTemplateExpression(expr: string, params: TemplateParams, context: TemplateContext): unknown {
  try {
    return evaluateExpression(expr, params);
  } catch (cause) {
    if (!(cause instanceof ExpressionError)) throw cause;
    const unknown = cause.reason === 'unknown-name';
    throw configError(`cannot evaluate \${${expr.trim()}}: ${cause.message}`, {
      code: unknown
        ? 'TEMPLATE_UNKNOWN_NAME'
        : cause.reason === 'syntax'
          ? 'TEMPLATE_SYNTAX'
          : 'TEMPLATE_NULL_PROPERTY',
      file: context.file,
      ...(context.key === undefined ? {} : { key: context.key }),
      ...(context.line === undefined ? {} : { line: context.line }),
      fix: unknown
        ? 'Use a parameter the workflow defines (_export, the !include files, the for_each variable, td.last_results).'
        : 'Write a supported expression: dotted names, literals, == != && || ! and parentheses.',
      cause,
    });
  }
}

/** Fill every `${...}` of `text`. */
export function fillTemplate(text: string, params: TemplateParams, context: TemplateContext): string {
  let out = '';
  let last = 0;
  for (const span of templateSpans(text)) {
    out += text.slice(last, span.start);
    last = span.end;
    if (/^\s*[A-Za-z_]\w*:/.test(span.expr)) {
      out += text.slice(span.start, span.end);
      continue;
    }
    const line = context.line ?? (context.key === undefined ? lineAt(text, span.start) : undefined);
    const value = evaluateTemplateExpression(span.expr, params, {
      ...context,
      ...(line === undefined ? {} : { line }),
    });
    out += renderValue(value);
  }
  return out + text.slice(last);
}
