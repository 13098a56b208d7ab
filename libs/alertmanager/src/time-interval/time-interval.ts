/**
 * Alertmanager's time intervals (`time_intervals:` / `mute_time_intervals:`): times of day,
 * weekdays, days of month (negative counts from the end), months, years and a location. Parsing
 * errors keep upstream's wording; `containsTime` is the pure check used for mute / active
 * intervals.
 */
export interface Range {
  begin: number;
  end: number;
}

export interface TimeInterval {
  /** Minutes since midnight, [start, end). */
  times?: { startMinute: number; endMinute: number }[];
  weekdays?: Range[];
  daysOfMonth?: Range[];
  months?: Range[];
  years?: Range[];
  /** IANA name, `Local` for the process's zone, or undefined for UTC. */
  location?: string;
}

export class TimeIntervalError extends Error {
  readonly code = 'INVALID_TIME_INTERVAL' as const;
}

const DAYS: Record<string, number> = {
  sunday: 0,
  monday: 1,
  tuesday: 2,
  wednesday: 3,
  thursday: 4,
  friday: 5,
  saturday: 6,
};
const MONTHS: Record<string, number> = {
  january: 1,
  february: 2,
  march: 3,
  april: 4,
  may: 5,
  june: 6,
  july: 7,
  august: 8,
  september: 9,
  october: 10,
  november: 11,
  december: 12,
};

function atoi(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new TimeIntervalError(`strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  return Number(s);
}

function rangeFrom(input: string, member: (s: string) => number): Range {
  const s = input.toLowerCase();
  if (s.includes(':')) {
    const parts = s.split(':');
    if (parts.length !== 2) throw new TimeIntervalError(`couldn't parse range ${s}, invalid format`);
    return { begin: member(parts[0]), end: member(parts[1]) };
  }
  const v = member(s);
  return { begin: v, end: v };
}

export function parseWeekdayRange(s: string): Range {
  const r = rangeFrom(s, (x) => {
    if (DAYS[x] === undefined) throw new TimeIntervalError(`${x} is not a valid weekday`);
    return DAYS[x];
  });
  if (r.begin > r.end) throw new TimeIntervalError('start day cannot be before end day');
  return r;
}

export function parseDayOfMonthRange(s: string): Range {
  const r = rangeFrom(s, atoi);
  const bad = (n: number): boolean => n === 0 || n < -31 || n > 31;
  if (bad(r.begin)) throw new TimeIntervalError(`${r.begin} is not a valid day of the month: out of range`);
  if (bad(r.end)) throw new TimeIntervalError(`${r.end} is not a valid day of the month: out of range`);
  if (r.begin < 0 && r.end > 0) throw new TimeIntervalError('end day must be negative if start day is negative');
  const b = r.begin < 0 ? 28 + r.begin : r.begin;
  const e = r.end < 0 ? 28 + r.end : r.end;
  if (b > e) throw new TimeIntervalError(`end day ${r.end} is always before start day ${r.begin}`);
  return r;
}

export function parseMonthRange(s: string): Range {
  const r = rangeFrom(s, (x) => {
    if (MONTHS[x] !== undefined) return MONTHS[x];
    if (!/^[+-]?\d+$/.test(x)) throw new TimeIntervalError(`${x} is not a valid month`);
    return Number(x);
  });
  if (r.begin < 1 || r.begin > 12) throw new TimeIntervalError(`${r.begin} is not a valid month: out of range`);
  if (r.end < 1 || r.end > 12) throw new TimeIntervalError(`${r.end} is not a valid month: out of range`);
  if (r.begin > r.end) throw new TimeIntervalError(`end month ${r.end} is before start month ${r.begin}`);
  return r;
}

export function parseYearRange(s: string): Range {
  const r = rangeFrom(s, atoi);
  if (r.begin > r.end) throw new TimeIntervalError(`end year ${r.end} is before start year ${r.begin}`);
  return r;
}

const VALID_TIME = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;

function parseTime(s: string): number {
  if (!VALID_TIME.test(s)) throw new TimeIntervalError(`couldn't parse timestamp ${s}, invalid format`);
  const [h, m] = s.split(':').map(Number);
  return h * 60 + m;
}

export function parseTimeRange(start: string, end: string): { startMinute: number; endMinute: number } {
  if (start === '' || end === '') throw new TimeIntervalError('both start and end times must be provided');
  const startMinute = parseTime(start);
  const endMinute = parseTime(end);
  if (startMinute >= endMinute) throw new TimeIntervalError('start time cannot be equal or greater than end time');
  return { startMinute, endMinute };
}

export function validateLocation(name: string): void {
  if (name === 'Local' || name === 'UTC' || name === '') return;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
  } catch {
    throw new TimeIntervalError(`unknown time zone ${name}`);
  }
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  weekday: number;
  minuteOfDay: number;
}

function wallClock(at: Date, location: string | undefined): WallClock {
  const timeZone = location === 'Local' ? undefined : (location ?? 'UTC');
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    weekday: 'short',
  }).formatToParts(at);
  const get = (t: string): string => parts.find((p) => p.type === t)?.value ?? '0';
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday'));
  return {
    year: Number(get('year')),
    month: Number(get('month')),
    day: Number(get('day')),
    weekday,
    minuteOfDay: Number(get('hour')) * 60 + Number(get('minute')),
  };
}

const clamp = (n: number, min: number, max: number): number => (n <= min ? min : n >= max ? max : n);

export function containsTime(ti: TimeInterval, at: Date): boolean {
  const t = wallClock(at, ti.location);
  if (ti.times && !ti.times.some((r) => t.minuteOfDay >= r.startMinute && t.minuteOfDay < r.endMinute)) return false;
  if (ti.daysOfMonth) {
    const dim = new Date(Date.UTC(t.year, t.month, 0)).getUTCDate();
    const ok = ti.daysOfMonth.some((r) => {
      let begin = r.begin < 0 ? dim + r.begin + 1 : r.begin;
      let end = r.end < 0 ? dim + r.end + 1 : r.end;
      if (begin > dim) return false;
      begin = clamp(begin, -dim, dim);
      end = clamp(end, -dim, dim);
      return t.day >= begin && t.day <= end;
    });
    if (!ok) return false;
  }
  if (ti.months && !ti.months.some((r) => t.month >= r.begin && t.month <= r.end)) return false;
  if (ti.weekdays && !ti.weekdays.some((r) => t.weekday >= r.begin && t.weekday <= r.end)) return false;
  if (ti.years && !ti.years.some((r) => t.year >= r.begin && t.year <= r.end)) return false;
  return true;
}

/** True when `at` lies in any of the named intervals; an unknown name is an error, as upstream. */
export function inAnyInterval(
  names: readonly string[],
  intervals: ReadonlyMap<string, readonly TimeInterval[]>,
  at: Date,
): boolean {
  for (const name of names) {
    const tis = intervals.get(name);
    if (!tis) throw new TimeIntervalError(`time interval ${name} doesn't exist in config`);
    if (tis.some((ti) => containsTime(ti, at))) return true;
  }
  return false;
}
