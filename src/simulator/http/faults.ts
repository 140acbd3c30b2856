import { ENDPOINT_NAMES, type EndpointName } from '../../klaviyo/endpoints/index.js';
import { Rng } from '../data/random.js';

export type FaultKind =
  | 'status'
  | '429'
  | '429-no-retry-after'
  | 'reset'
  | 'truncate'
  | 'slow'
  | 'html403'
  | 'expire-cursor';

/**
 * One fault rule. Trigger: `atRequest` (1-based ordinals among the requests this rule matches), else
 * probability `p` (optionally capped by `count`), else the next `count` (default 1) matching requests.
 */
export interface FaultRule {
  kind: FaultKind;
  /** for `status`: 500, 502, 503 or 504 */
  status?: number;
  /** target endpoint; absent or `*` = all */
  endpoint?: EndpointName | '*';
  p?: number;
  atRequest?: number[];
  count?: number;
  /** for `slow` (default 30000 ms) */
  delayMs?: number;
  /** for `429` (default 1 s) */
  retryAfter?: number;
}

interface RuleState {
  rule: FaultRule;
  seen: number;
  fired: number;
}

const KINDS = new Set(['429', '429-no-retry-after', 'reset', 'truncate', 'slow', 'html403', 'expire-cursor']);

/**
 * Parses a CLI fault spec: comma-separated rules `KIND[xN][@ENDPOINT][:OPT]...` where KIND is
 * 500|502|503|504|429|429-no-retry-after|reset|truncate|slow|html403|expire-cursor and OPT is
 * `p=0.05`, `at=3` (or `at=3+7`), `n=2`, `ms=5000`, `retry-after=2`, or a bare number (ms for slow,
 * retry-after for 429). Examples: `503x3@events`, `reset@events:p=0.05`, `slow:5000`, `expire-cursor`.
 */
export function parseFaultSpec(spec: string): FaultRule[] {
  const rules: FaultRule[] = [];
  for (const raw of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    let text = raw;
    let endpoint: FaultRule['endpoint'];
    const at = /@([a-z-]+|\*)/.exec(text);
    if (at) {
      const name = at[1] as string;
      if (name !== '*' && !ENDPOINT_NAMES.includes(name as EndpointName)) {
        throw new Error(`fault '${raw}': unknown endpoint '${name}'`);
      }
      endpoint = name as EndpointName | '*';
      text = text.replace(at[0], '');
    }
    const [head = '', ...opts] = text.split(':');
    const hm = /^([a-z0-9-]+?)(?:x(\d+))?$/.exec(head);
    if (!hm) throw new Error(`fault '${raw}': cannot parse '${head}'`);
    const kindText = hm[1] as string;
    const rule: FaultRule = { kind: 'status' };
    if (/^5\d\d$/.test(kindText)) rule.status = Number(kindText);
    else if (KINDS.has(kindText)) rule.kind = kindText as FaultKind;
    else throw new Error(`fault '${raw}': unknown kind '${kindText}'`);
    if (hm[2]) rule.count = Number(hm[2]);
    if (endpoint) rule.endpoint = endpoint;
    for (const opt of opts) {
      const [k, v] = opt.includes('=') ? (opt.split('=') as [string, string]) : ['', opt];
      const num = Number(v);
      if (k === 'p') rule.p = num;
      else if (k === 'at') rule.atRequest = v.split('+').map(Number);
      else if (k === 'n') rule.count = num;
      else if (k === 'ms') rule.delayMs = num;
      else if (k === 'retry-after') rule.retryAfter = num;
      else if (k === '' && rule.kind === 'slow') rule.delayMs = num;
      else if (k === '' && rule.kind === '429') rule.retryAfter = num;
      else throw new Error(`fault '${raw}': unknown option '${opt}'`);
      if (Number.isNaN(num) && k !== 'at') throw new Error(`fault '${raw}': '${opt}' is not a number`);
    }
    rules.push(rule);
  }
  return rules;
}

/** Decides, deterministically from the seed and the request order, which fault (if any) hits a request. */
export class FaultInjector {
  private states: RuleState[] = [];
  private readonly rng: Rng;

  constructor(seed: number, rules: FaultRule[] = []) {
    this.rng = new Rng(seed ^ 0xfa017);
    for (const r of rules) this.add(r);
  }

  add(rule: FaultRule): void {
    this.states.push({ rule, seen: 0, fired: 0 });
  }

  clear(): void {
    this.states = [];
  }

  rules(): FaultRule[] {
    return this.states.map((s) => ({ ...s.rule }));
  }

  /** The first rule that fires for this request. `phase` separates cursor expiry from the rest. */
  pick(endpoint: EndpointName, phase: 'request' | 'cursor'): FaultRule | null {
    for (const st of this.states) {
      const { rule } = st;
      if ((rule.kind === 'expire-cursor') !== (phase === 'cursor')) continue;
      if (rule.endpoint && rule.endpoint !== '*' && rule.endpoint !== endpoint) continue;
      st.seen++;
      let fire: boolean;
      if (rule.atRequest) fire = rule.atRequest.includes(st.seen);
      else if (rule.p !== undefined)
        fire = this.rng.next() < rule.p && (rule.count === undefined || st.fired < rule.count);
      else fire = st.fired < (rule.count ?? 1);
      if (fire) {
        st.fired++;
        return rule;
      }
    }
    return null;
  }
}
