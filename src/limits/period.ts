import type { BudgetPeriod } from './types.js';

/**
 * Budget periods are calendar days and months in UTC. The id names the period a reservation was
 * made in, so a settle() that arrives after midnight corrects the right one (or none); resetAt is
 * when the next one starts. The Redis script computes the same ids from Redis' clock.
 */
export interface PeriodWindow {
  /** "2025-01-31" for a day, "2025-01" for a month. */
  readonly id: string;
  /** Start of the next period, ms since the epoch. */
  readonly resetAt: number;
}

export function toPeriodWindow(now: number, period: BudgetPeriod): PeriodWindow {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const month = `${String(y).padStart(4, '0')}-${String(m + 1).padStart(2, '0')}`;
  if (period === 'month') return { id: month, resetAt: Date.UTC(y, m + 1, 1) };
  const day = d.getUTCDate();
  return { id: `${month}-${String(day).padStart(2, '0')}`, resetAt: Date.UTC(y, m, day + 1) };
}
