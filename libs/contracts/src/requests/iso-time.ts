const DAY_MS = 86_400_000;
/** 10000-01-01T00:00:00.000Z: from here on toISOString writes six-digit years. */
const YEAR_10000_MS = 253_402_300_800_000;
const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

let cachedDay = Number.NaN;
let cachedPrefix = '';

/**
 * `new Date(ms).toISOString()`, the same string, without a Date per call: the date part is
 * kept for the last day seen (the request path writes seven instants per request, nearly all on
 * one day) and the time of day is put together from tables. Times before 1970, from the year
 * 10000 on, fractional or not finite go through Date, as do its errors.
 */
export function isoTime(ms: number): string {
  if (!(ms >= 0 && ms < YEAR_10000_MS) || ms % 1 !== 0) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay) {
    cachedPrefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    cachedDay = day;
  }
  let rest = ms - day * DAY_MS;
  const millis = rest % 1000;
  rest = (rest - millis) / 1000;
  const seconds = rest % 60;
  rest = (rest - seconds) / 60;
  const minutes = rest % 60;
  const hours = (rest - minutes) / 60;
  return `${cachedPrefix}${PAD2[hours]}:${PAD2[minutes]}:${PAD2[seconds]}.${PAD3[millis]}Z`;
}

let parsedPrefix = '';
let parsedDayMs = Number.NaN;

/**
 * `Date.parse(text)`, the same number, cheaper for what isoTime writes (`YYYY-MM-DDTHH:MM:SS.sssZ`,
 * 24 characters): the date part is parsed by Date.parse once for the last day seen, with all its
 * rules (V8 lets a day run past the month's end), and the time of day is read digit by digit.
 * Any other form, and a time of day out of range, goes to Date.parse.
 */
export function parseIsoTime(text: string): number {
  if (text.length !== 24 || text.charCodeAt(23) !== 90 /* Z */) return Date.parse(text);
  const h = twoDigits(text, 11);
  const m = twoDigits(text, 14);
  const s = twoDigits(text, 17);
  const ms = twoDigits(text, 20) * 10 + digit(text, 22);
  if (
    !(h < 24 && m < 60 && s < 60 && ms >= 0) ||
    text.charCodeAt(13) !== 58 /* : */ ||
    text.charCodeAt(16) !== 58 ||
    text.charCodeAt(19) !== 46 /* . */
  )
    return Date.parse(text);
  if (parsedPrefix === '' || !text.startsWith(parsedPrefix)) {
    if (!isDatePart(text)) return Date.parse(text);
    parsedPrefix = text.slice(0, 11);
    parsedDayMs = Date.parse(`${parsedPrefix}00:00:00.000Z`);
  }
  return parsedDayMs + ((h * 60 + m) * 60 + s) * 1000 + ms;
}

/** `YYYY-MM-DDT` at the start, digits where digits go (the values are Date.parse's to judge). */
function isDatePart(text: string): boolean {
  for (let i = 0; i < 10; i++) {
    if (i === 4 || i === 7) {
      if (text.charCodeAt(i) !== 45 /* - */) return false;
    } else if (Number.isNaN(digit(text, i))) return false;
  }
  return text.charCodeAt(10) === 84; /* T */
}

/** The digit at `i`, or NaN. */
function digit(text: string, i: number): number {
  const d = text.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : Number.NaN;
}

function twoDigits(text: string, i: number): number {
  return digit(text, i) * 10 + digit(text, i + 1);
}
