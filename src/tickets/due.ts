/**
 * Due dates of remediation tickets, counted in Japanese business days.
 *
 * A business day is a day that is not a Saturday, a Sunday, a Japanese national holiday (国民の祝日,
 * including 振替休日 and 国民の休日, exactly as `@holiday-jp/holiday_jp` lists them) nor a day of the
 * New Year closure of government offices (see {@link NEW_YEAR_CLOSURE}).
 *
 * The calendar is always Japan's: the organisation's time zone only decides which local calendar date
 * a finding was opened on and which instant "17:15 on the due date" is. An organisation configured
 * with, say, America/New_York still gets Japanese holidays, not US ones.
 */
import holidayJp from '@holiday-jp/holiday_jp';
import { DateTime, IANAZone } from 'luxon';
import type { Severity } from '../rules/ids';

/**
 * Month-day of the 年末年始 closure, 12/29–1/3 (行政機関の休日に関する法律 第1条第1項第3号; local
 * governments close the same days under their 休日条例, 地方自治法 第4条の2). They are not national
 * holidays, so the holiday library does not list them. 01-01 is also 元日, listed in both.
 */
const NEW_YEAR_CLOSURE: ReadonlySet<string> = new Set(['12-29', '12-30', '12-31', '01-01', '01-02', '01-03']);

/** End of the office day, local time: the due instant is this time on the due date. */
const END_OF_DAY = { hour: 17, minute: 15 } as const;

/** National holidays, YYYY-MM-DD; a Set so a look-up does not scan every key as `isHoliday` does. */
const HOLIDAYS: ReadonlySet<string> = new Set(Object.keys(holidayJp.holidays));

/** First and last years the holiday data covers; outside them the calendar is unknown. */
const [FIRST_YEAR, LAST_YEAR] = ((): [number, number] => {
  const years = [...HOLIDAYS].map((d) => Number(d.slice(0, 4)));
  return [Math.min(...years), Math.max(...years)];
})();

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Result of a due-date computation. */
export interface Due {
  /** The due date, YYYY-MM-DD, a business day in the organisation's calendar. */
  date: string;
  /** 17:15 local time on `date` (the end of the office day) as an ISO 8601 UTC instant, e.g. `2026-05-07T08:15:00.000Z`. */
  dueDateTime: string;
}

/** The parts of the policy {@link dueFor} reads; a validated `Policy` fits. */
export interface DuePolicy {
  tickets: { dueBusinessDays: Record<Severity, number> };
  organization: { timeZone: string };
}

/** Parses a YYYY-MM-DD calendar date (as a UTC midnight, only its calendar fields matter). */
function parseDate(date: string): DateTime {
  const d = ISO_DATE.test(date) ? DateTime.fromISO(date, { zone: 'utc' }) : undefined;
  if (!d?.isValid) {
    throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(date)}`);
  }
  return d;
}

function businessDay(d: DateTime): boolean {
  if (d.year < FIRST_YEAR || d.year > LAST_YEAR) {
    throw new RangeError(
      `${d.toISODate()} is outside the Japanese holiday data (${FIRST_YEAR}–${LAST_YEAR}); update @holiday-jp/holiday_jp`,
    );
  }
  if (d.weekday >= 6) return false; // 6 = Saturday, 7 = Sunday
  if (NEW_YEAR_CLOSURE.has(d.toFormat('MM-dd'))) return false;
  return !HOLIDAYS.has(d.toISODate() ?? '');
}

/**
 * Whether a calendar date is a Japanese business day: not a Saturday or Sunday, not a national
 * holiday (including 振替休日 and 国民の休日) and not in the 12/29–1/3 New Year closure.
 *
 * @param date Calendar date, `YYYY-MM-DD`.
 * @throws RangeError if `date` is not a valid `YYYY-MM-DD` date or lies outside the years the holiday
 *   data covers.
 */
export function isBusinessDay(date: string): boolean {
  return businessDay(parseDate(date));
}

/**
 * The date `days` Japanese business days after the local calendar date of `openedAt`.
 *
 * The opening day never counts, whatever the hour and whether or not it is a business day: with
 * `days = 1` a ticket opened on Friday at 16:00 is due the following Monday (or the next business day
 * if Monday is a holiday), and one opened on Saturday is due on Monday too.
 *
 * @param openedAt When the ticket was opened.
 * @param days Number of business days, a positive integer.
 * @param timeZone IANA zone of the organisation; decides the local date of `openedAt` and the due
 *   instant. The holidays are Japan's in every zone.
 * @returns The due date and 17:15 local time on it as an ISO UTC instant.
 * @throws RangeError if `days` is not a positive integer, `openedAt` is an invalid Date, `timeZone`
 *   is not an IANA zone, or the count runs outside the years the holiday data covers.
 */
export function addBusinessDays(openedAt: Date, days: number, timeZone: string): Due {
  if (!Number.isSafeInteger(days) || days < 1) {
    throw new RangeError(`days must be a positive integer, got ${days}`);
  }
  if (Number.isNaN(openedAt.getTime())) {
    throw new RangeError('openedAt is an invalid Date');
  }
  if (!IANAZone.isValidZone(timeZone)) {
    throw new RangeError(`not an IANA time zone: ${JSON.stringify(timeZone)}`);
  }
  // The local calendar date of the opening instant (in Asia/Tokyo it can be the UTC date + 1), then
  // walked on plain calendar dates so a DST change in the zone cannot skip or repeat a day.
  const local = DateTime.fromJSDate(openedAt, { zone: timeZone });
  let day = DateTime.utc(local.year, local.month, local.day);
  for (let counted = 0; counted < days; ) {
    day = day.plus({ days: 1 });
    if (businessDay(day)) counted++;
  }
  const due = DateTime.fromObject(
    { year: day.year, month: day.month, day: day.day, ...END_OF_DAY },
    { zone: timeZone },
  );
  return { date: day.toISODate() ?? '', dueDateTime: due.toJSDate().toISOString() };
}

/**
 * Due date of a remediation ticket for a finding of `severity` opened at `openedAt`:
 * `policy.tickets.dueBusinessDays[severity]` business days later, in `policy.organization.timeZone`.
 * See {@link addBusinessDays}.
 *
 * @throws RangeError as {@link addBusinessDays} does.
 */
export function dueFor(severity: Severity, openedAt: Date, policy: DuePolicy): Due {
  return addBusinessDays(openedAt, policy.tickets.dueBusinessDays[severity], policy.organization.timeZone);
}
