/** Times as the organisation reads them. */
import { DateTime } from 'luxon';

/** A timestamp as the organisation reads it: local time with its zone, e.g. 2026-11-27 11:44:44 JST. */
export function localTime(iso: string, timeZone: string): string {
  const t = DateTime.fromISO(iso, { zone: 'utc' }).setZone(timeZone);
  return t.isValid ? `${t.toFormat('yyyy-MM-dd HH:mm:ss')} ${t.offsetNameShort ?? timeZone}` : iso;
}
