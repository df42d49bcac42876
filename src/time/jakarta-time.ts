/**
 * Indonesian banks date transactions in Western Indonesia Time (UTC+7, no daylight saving),
 * whatever the server's time zone. These helpers shift the instant by +7 h and read the UTC
 * fields, which never depends on the machine's TZ setting.
 */
const OFFSET_MS = 7 * 60 * 60 * 1000;

function shifted(instant: Date | number): Date {
  return new Date((typeof instant === 'number' ? instant : instant.getTime()) + OFFSET_MS);
}

const DAY_MS = 86_400_000;

/** The number of the Jakarta (UTC+7) day `instant` falls on: days since 1970-01-01 in UTC+7. */
export function jakartaDay(instant: number): number {
  return Math.floor((instant + OFFSET_MS) / DAY_MS);
}

/** Where Jakarta day number `day` (jakartaDay) starts, epoch ms: its midnight in UTC+7. */
export function jakartaDayStart(day: number): number {
  return day * DAY_MS - OFFSET_MS;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** The day jakartaDate wrote last, and what it wrote: instants come mostly in runs of one day. */
let lastDay = Number.NaN;
let lastDate = '';

/**
 * `yyyy-MM-dd` in UTC+7. The day written last is written again without a Date: a month's
 * reconciliation asks the day of each of 50,000 payments, mostly in time order (a Date and a
 * string built each: about 15 ms of the page).
 */
export function jakartaDate(instant: Date | number): string {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  const day = jakartaDay(ms);
  if (day === lastDay) return lastDate;
  const d = shifted(ms);
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  lastDay = day;
  lastDate = date;
  return date;
}

/** `yyyy-MM-ddTHH:mm:ss.SSS+07:00`, or without milliseconds when `millis` is false. */
export function jakartaTimestamp(instant: Date | number, millis = true): string {
  const d = shifted(instant);
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const fraction = millis ? `.${pad(d.getUTCMilliseconds(), 3)}` : '';
  return `${jakartaDate(instant)}T${time}${fraction}+07:00`;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * The Jakarta (UTC+7) day of an ISO-8601 date or date-time a bank wrote, as `yyyy-MM-dd`. A time
 * with an offset (`Z`, `+07:00`, `-0500`…) is moved to UTC+7 first, so a bank writing UTC cannot
 * shift a line to the day before; a date, or a time without an offset, is Jakarta's already (the
 * banks' own time). Null when the text is none of these, or names no real day or time.
 */
export function jakartaDateOf(text: string): string | null {
  const match = DATE_TIME.exec(text.trim());
  if (!match) return null;
  const [, year, month, day, hours = '00', minutes = '00', seconds = '00', offset] = match;
  const wall = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hours), Number(minutes), Number(seconds));
  const asWritten = new Date(wall);
  if (asWritten.getUTCMonth() + 1 !== Number(month) || asWritten.getUTCDate() !== Number(day) || asWritten.getUTCHours() !== Number(hours) || asWritten.getUTCMinutes() !== Number(minutes) || asWritten.getUTCSeconds() !== Number(seconds)) return null;
  if (!offset) return `${year}-${month}-${day}`;
  if (/^z$/i.test(offset)) return jakartaDate(wall);
  const [, sign, offsetHours, offsetMinutes] = /^([+-])(\d{2}):?(\d{2})$/.exec(offset)!;
  if (Number(offsetHours) > 14 || Number(offsetMinutes) > 59) return null;
  const offsetMs = (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000 * (sign === '-' ? -1 : 1);
  return jakartaDate(wall - offsetMs);
}
