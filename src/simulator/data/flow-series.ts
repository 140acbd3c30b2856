/**
 * What `POST /api/flow-series-reports` reports per flow message and day (and, in an instance of its
 * own, what `POST /api/campaign-values-reports` sums per campaign message): deterministic numbers from
 * (seed, message, day, statistic), zero before the message existed, and revisable: Klaviyo still
 * changes recent days (late opens, conversions), so `revise` bumps the values of a range of days.
 */
import { hash32 } from './random.js';

const DAY = 86_400_000;

/** Every statistic the 2026-07-15 document allows (rates in [0, 1]). */
export const FLOW_SERIES_STATISTICS = [
  'average_order_value',
  'bounce_rate',
  'bounced',
  'bounced_or_failed',
  'bounced_or_failed_rate',
  'click_rate',
  'click_to_open_rate',
  'clicks',
  'clicks_unique',
  'conversion_rate',
  'conversion_uniques',
  'conversion_value',
  'conversions',
  'delivered',
  'delivery_rate',
  'failed',
  'failed_rate',
  'message_segment_count_sum',
  'open_rate',
  'opens',
  'opens_unique',
  'recipients',
  'revenue_per_recipient',
  'spam_complaint_rate',
  'spam_complaints',
  'text_message_credit_usage_amount',
  'text_message_roi',
  'text_message_spend',
  'unsubscribe_rate',
  'unsubscribe_uniques',
  'unsubscribes',
] as const;

const STATISTIC_INDEX = new Map<string, number>(FLOW_SERIES_STATISTICS.map((s, i) => [s, i]));

export class FlowSeriesData {
  /** Revisions per UTC day (epoch ms of its midnight). */
  private readonly revisions = new Map<number, number>();

  constructor(private readonly seed: number) {}

  /** Revises every day from `fromMs`'s day to `toMs`'s day (inclusive): their numbers change. */
  revise(fromMs: number, toMs: number): void {
    for (let day = Math.floor(fromMs / DAY) * DAY; day <= toMs; day += DAY)
      this.revisions.set(day, (this.revisions.get(day) ?? 0) + 1);
  }

  /** One statistic of one flow message on the day starting at `dayMs`; 0 before `createdMs`'s day. */
  value(messageIndex: number, createdMs: number, dayMs: number, statistic: string): number {
    if (dayMs + DAY <= createdMs) return 0;
    const revision = this.revisions.get(dayMs) ?? 0;
    const h = hash32(
      this.seed ^ (revision * 0x9e37),
      800 + (STATISTIC_INDEX.get(statistic) ?? 0),
      messageIndex * 4096 + dayMs / DAY,
    );
    if (statistic.endsWith('_rate')) return Math.round((h % 10_000) / 10) / 1000;
    if (/value|spend|revenue|roi|amount|average/.test(statistic)) return Math.round(h % 100_000) / 100;
    return h % 250;
  }
}
