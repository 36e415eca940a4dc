import holidayJp from '@holiday-jp/holiday_jp';
import { defaultPolicy, validatePolicy } from '../../src/config/policy';
import { addBusinessDays, dueFor, isBusinessDay, type DuePolicy } from '../../src/tickets/due';

/** Expected dates below were worked out by hand on a calendar; these pin the calendar they rely on. */
describe('calendar assumptions', () => {
  const weekday = (d: string) => ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][new Date(`${d}T00:00:00Z`).getUTCDay()];

  it('weekdays used by the cases', () => {
    expect(weekday('2026-04-28')).toBe('Tue');
    expect(weekday('2026-05-01')).toBe('Fri');
    expect(weekday('2026-05-07')).toBe('Thu');
    expect(weekday('2026-06-05')).toBe('Fri');
    expect(weekday('2026-07-17')).toBe('Fri');
    expect(weekday('2026-12-25')).toBe('Fri');
    expect(weekday('2026-12-28')).toBe('Mon');
    expect(weekday('2027-01-01')).toBe('Fri');
    expect(weekday('2027-01-04')).toBe('Mon');
    expect(weekday('2027-01-18')).toBe('Mon');
    expect(weekday('2028-01-03')).toBe('Mon');
  });

  it('the holiday data covers 2026–2028 and has the holidays the cases rely on', () => {
    const names = holidayJp.holidays as Record<string, { name: string } | undefined>;
    expect(names['2026-04-29']?.name).toBe('昭和の日');
    expect(names['2026-05-03']?.name).toBe('憲法記念日');
    expect(names['2026-05-04']?.name).toBe('みどりの日');
    expect(names['2026-05-05']?.name).toBe('こどもの日');
    expect(names['2026-05-06']?.name).toBe('こどもの日 振替休日');
    expect(names['2026-07-20']?.name).toBe('海の日');
    expect(names['2026-09-22']?.name).toBe('休日'); // 国民の休日
    expect(names['2027-01-01']?.name).toBe('元日');
    expect(names['2027-01-11']?.name).toBe('成人の日');
    expect(names['2028-01-10']?.name).toBe('成人の日');
    // Not national holidays: the New Year closure comes from the module, not the data.
    for (const d of ['2026-12-29', '2026-12-30', '2026-12-31', '2027-01-02', '2027-01-03', '2028-01-03']) {
      expect(names[d]).toBeUndefined();
    }
  });
});

describe('isBusinessDay', () => {
  it.each([
    ['2026-05-02', false, 'Saturday'],
    ['2026-05-03', false, 'Sunday and 憲法記念日'],
    ['2026-05-06', false, '振替休日 (Wednesday)'],
    ['2026-09-22', false, '国民の休日 (Tuesday)'],
    ['2027-01-11', false, '成人の日'],
    ['2026-12-29', false, 'New Year closure (Tuesday)'],
    ['2026-12-31', false, 'New Year closure (Thursday)'],
    ['2026-01-02', false, 'New Year closure (Friday)'],
    ['2027-01-03', false, 'New Year closure (Sunday)'],
    ['2028-01-03', false, 'New Year closure on a Monday'],
    ['2027-01-04', true, 'Monday after the New Year closure'],
    ['2026-12-28', true, 'Monday before the closure'],
    ['2026-05-07', true, 'Thursday after Golden Week'],
  ])('%s → %s (%s)', (date, expected) => {
    expect(isBusinessDay(date)).toBe(expected);
  });

  it('rejects malformed dates and years the holiday data does not cover', () => {
    expect(() => isBusinessDay('2026-02-30')).toThrow(RangeError);
    expect(() => isBusinessDay('2026-5-7')).toThrow(RangeError);
    expect(() => isBusinessDay('2026-05-07T00:00:00Z')).toThrow(RangeError);
    expect(() => isBusinessDay('2051-01-04')).toThrow(RangeError);
    expect(() => isBusinessDay('1969-12-01')).toThrow(RangeError);
  });
});

describe('addBusinessDays (Asia/Tokyo)', () => {
  const TZ = 'Asia/Tokyo';
  const at = (iso: string) => new Date(iso);

  it('Golden Week 2026: opened Tue 04-28 10:00 JST, 3 days → Thu 05-07 17:15 JST (08:15Z)', () => {
    expect(addBusinessDays(at('2026-04-28T10:00:00+09:00'), 3, TZ)).toEqual({
      date: '2026-05-07',
      dueDateTime: '2026-05-07T08:15:00.000Z',
    });
  });

  it('Golden Week 2026: opened Fri 05-01, 1 day → 05-07, 3 days → Mon 05-11', () => {
    expect(addBusinessDays(at('2026-05-01T15:00:00+09:00'), 1, TZ)).toEqual({
      date: '2026-05-07',
      dueDateTime: '2026-05-07T08:15:00.000Z',
    });
    expect(addBusinessDays(at('2026-05-01T15:00:00+09:00'), 3, TZ)).toEqual({
      date: '2026-05-11',
      dueDateTime: '2026-05-11T08:15:00.000Z',
    });
  });

  it('opened on a holiday: the opening day does not count either way', () => {
    expect(addBusinessDays(at('2026-05-03T12:00:00+09:00'), 1, TZ).date).toBe('2026-05-07');
  });

  it('the hour of opening does not matter, only the local date', () => {
    expect(addBusinessDays(at('2026-04-28T00:00:00+09:00'), 1, TZ).date).toBe('2026-04-30');
    expect(addBusinessDays(at('2026-04-28T23:59:59.999+09:00'), 1, TZ).date).toBe('2026-04-30');
  });

  it.each([
    // opened Mon 2026-12-28: business days after it are 01-04, 01-05, 01-06, 01-07, 01-08, (01-11 成人の日) 01-12 … 01-15, 01-18
    ['2026-12-28T10:00:00+09:00', 1, '2027-01-04'],
    ['2026-12-28T10:00:00+09:00', 3, '2027-01-06'],
    ['2026-12-28T10:00:00+09:00', 10, '2027-01-18'],
    // opened Fri 2026-12-25: 12-28 counts, then the same sequence from 01-04
    ['2026-12-25T10:00:00+09:00', 1, '2026-12-28'],
    ['2026-12-25T10:00:00+09:00', 3, '2027-01-05'],
    ['2026-12-25T10:00:00+09:00', 10, '2027-01-15'],
  ])('New Year 2026/2027: opened %s, %i business day(s) → %s', (opened, days, date) => {
    expect(addBusinessDays(at(opened), days, TZ)).toEqual({ date, dueDateTime: `${date}T08:15:00.000Z` });
  });

  it('Friday evening JST, still Friday morning in UTC: due Monday', () => {
    const opened = at('2026-06-05T18:30:00+09:00');
    expect(opened.toISOString()).toBe('2026-06-05T09:30:00.000Z');
    expect(addBusinessDays(opened, 1, TZ)).toEqual({ date: '2026-06-08', dueDateTime: '2026-06-08T08:15:00.000Z' });
  });

  it('Friday afternoon before a Monday holiday (海の日 2026-07-20): due Tuesday', () => {
    expect(addBusinessDays(at('2026-07-17T16:00:00+09:00'), 1, TZ).date).toBe('2026-07-21');
  });

  it('Monday 00:30 JST is Sunday in UTC: the local date (Monday) is the opening day', () => {
    const opened = at('2026-06-08T00:30:00+09:00');
    expect(opened.toISOString()).toBe('2026-06-07T15:30:00.000Z');
    // Counting from the UTC date (Sunday) would give Monday 06-08.
    expect(addBusinessDays(opened, 1, TZ)).toEqual({ date: '2026-06-09', dueDateTime: '2026-06-09T08:15:00.000Z' });
  });

  it('throws RangeError for days that are not positive integers', () => {
    const opened = at('2026-06-08T10:00:00+09:00');
    expect(() => addBusinessDays(opened, 0, TZ)).toThrow(RangeError);
    expect(() => addBusinessDays(opened, 1.5, TZ)).toThrow(RangeError);
    expect(() => addBusinessDays(opened, -1, TZ)).toThrow(RangeError);
    expect(() => addBusinessDays(opened, Number.NaN, TZ)).toThrow(RangeError);
  });

  it('throws RangeError for an invalid Date, an unknown zone, or a count past the holiday data', () => {
    expect(() => addBusinessDays(new Date('nope'), 1, TZ)).toThrow(RangeError);
    expect(() => addBusinessDays(at('2026-06-08T10:00:00+09:00'), 1, 'Asia/Nowhere')).toThrow(RangeError);
    expect(() => addBusinessDays(at('2050-12-28T10:00:00+09:00'), 1, TZ)).toThrow(RangeError);
  });
});

describe('addBusinessDays (other zones: the local date and 17:15 are the zone’s, the holidays stay Japan’s)', () => {
  const NY = 'America/New_York';

  it('the local date is New York’s: Thu 22:00 EDT (Fri in Tokyo) is due Friday 17:15 EDT', () => {
    const opened = new Date('2026-05-01T02:00:00Z'); // 2026-04-30 22:00 EDT, 2026-05-01 11:00 JST
    expect(addBusinessDays(opened, 1, NY)).toEqual({ date: '2026-05-01', dueDateTime: '2026-05-01T21:15:00.000Z' });
    expect(addBusinessDays(opened, 1, 'Asia/Tokyo')).toEqual({ date: '2026-05-07', dueDateTime: '2026-05-07T08:15:00.000Z' });
  });

  it('Japanese holidays still apply (Golden Week), US ones do not (Independence Day observed, Fri 2026-07-03)', () => {
    expect(addBusinessDays(new Date('2026-05-01T10:00:00-04:00'), 1, NY).date).toBe('2026-05-07');
    expect(addBusinessDays(new Date('2026-07-02T10:00:00-04:00'), 1, NY)).toEqual({
      date: '2026-07-03',
      dueDateTime: '2026-07-03T21:15:00.000Z',
    });
  });

  it('17:15 follows the zone’s offset: EST in winter, EDT across the March 2026 DST change', () => {
    expect(addBusinessDays(new Date('2026-12-28T09:00:00-05:00'), 1, NY)).toEqual({
      date: '2027-01-04',
      dueDateTime: '2027-01-04T22:15:00.000Z',
    });
    // Opened Sat 2026-03-07 (EST); DST starts Sun 03-08; due Mon 03-09 17:15 EDT.
    expect(addBusinessDays(new Date('2026-03-07T12:00:00-05:00'), 1, NY)).toEqual({
      date: '2026-03-09',
      dueDateTime: '2026-03-09T21:15:00.000Z',
    });
  });
});

describe('dueFor', () => {
  const opened = new Date('2026-04-28T10:00:00+09:00'); // Tue, before Golden Week

  it('uses the default policy: critical 1, high 3, medium 10, low 20 business days in Asia/Tokyo', () => {
    const policy = defaultPolicy();
    expect(dueFor('critical', opened, policy)).toEqual({ date: '2026-04-30', dueDateTime: '2026-04-30T08:15:00.000Z' });
    expect(dueFor('high', opened, policy)).toEqual({ date: '2026-05-07', dueDateTime: '2026-05-07T08:15:00.000Z' });
    expect(dueFor('medium', opened, policy)).toEqual({ date: '2026-05-18', dueDateTime: '2026-05-18T08:15:00.000Z' });
    expect(dueFor('low', opened, policy)).toEqual({ date: '2026-06-01', dueDateTime: '2026-06-01T08:15:00.000Z' });
  });

  it('uses the policy’s days and time zone', () => {
    const policy = validatePolicy({
      organization: { timeZone: 'America/New_York' },
      tickets: { dueBusinessDays: { critical: 2 } },
    });
    // 2026-04-27 21:00 EDT (Mon): Tue 04-28 (1), Thu 04-30 (2; 04-29 昭和の日 counts as a holiday in New York too)
    expect(dueFor('critical', opened, policy)).toEqual({ date: '2026-04-30', dueDateTime: '2026-04-30T21:15:00.000Z' });
  });

  it('accepts a plain object of the same shape', () => {
    const policy: DuePolicy = {
      tickets: { dueBusinessDays: { critical: 1, high: 3, medium: 10, low: 20 } },
      organization: { timeZone: 'Asia/Tokyo' },
    };
    expect(dueFor('high', new Date('2026-05-01T09:00:00+09:00'), policy).date).toBe('2026-05-11');
  });
});
