/**
 * Strict ISO 8601 instants, as event times are read: `Date.parse` accepts
 * far too much (`"2024-01-01 00:05:01"` and `"01/02/2024"` in the host's time
 * zone, `"2024-02-30"` rolled over to March 1, `"0"` as the year 2000).
 *
 * Accepted: the RFC 3339 profile of ISO 8601's extended format,
 *
 *   YYYY-MM-DDTHH:MM:SS[.fraction](Z | ±HH:MM)
 *
 * with a real calendar date (leap years counted), hours 00-23, minutes and
 * seconds 00-59 (a leap second, :60, has no JS Date), `T`/`Z` in either case,
 * and an explicit offset: a time without one names no instant. Fractions
 * beyond milliseconds are truncated.
 */

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  if (month === 2 && (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) return 29;
  return DAYS[month - 1];
}

/** Milliseconds since the epoch, or undefined when `s` is not a strict ISO 8601 instant. */
export function parseIsoInstant(s: unknown): number | undefined {
  if (typeof s !== 'string' || s.length > 40) return undefined;
  const m = ISO_INSTANT.exec(s);
  if (m === null) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMin = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime() - offsetMin * 60_000;
}

/** For ajv (`date-time` format): a strict instant. */
export function isIsoInstant(s: string): boolean {
  return parseIsoInstant(s) !== undefined;
}
