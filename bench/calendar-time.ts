// Time arithmetic the benchmarks check answers with: the generator's four VTIMEZONE definitions,
// local wall time to UTC through them, the UTC instances of the simple recurrences the generator
// writes (DAILY/WEEKLY with COUNT or UNTIL), and a small iCalendar reader for returned calendar-data.

// ---- time zones ----------------------------------------------------------------------------------

interface Observance {
  readonly offsetFrom: string;
  readonly offsetTo: string;
  readonly name: string;
  /** Local start in the offsetFrom time, YYYYMMDDTHHMMSS. */
  readonly dtstart: string;
  /** Only the FREQ=YEARLY;BYMONTH=m;BYDAY=nSU shape is used (n may be -1). */
  readonly rrule?: string;
}

export interface ZoneDefinition {
  readonly standard: Observance;
  readonly daylight?: Observance & { readonly rrule: string };
}

export const ZONES: Readonly<Record<string, ZoneDefinition>> = {
  'Europe/Berlin': {
    daylight: { offsetFrom: '+0100', offsetTo: '+0200', name: 'CEST', dtstart: '19700329T020000', rrule: 'FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU' },
    standard: { offsetFrom: '+0200', offsetTo: '+0100', name: 'CET', dtstart: '19701025T030000', rrule: 'FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU' },
  },
  'America/New_York': {
    daylight: { offsetFrom: '-0500', offsetTo: '-0400', name: 'EDT', dtstart: '19700308T020000', rrule: 'FREQ=YEARLY;BYMONTH=3;BYDAY=2SU' },
    standard: { offsetFrom: '-0400', offsetTo: '-0500', name: 'EST', dtstart: '19701101T020000', rrule: 'FREQ=YEARLY;BYMONTH=11;BYDAY=1SU' },
  },
  'Australia/Sydney': {
    daylight: { offsetFrom: '+1000', offsetTo: '+1100', name: 'AEDT', dtstart: '19701004T020000', rrule: 'FREQ=YEARLY;BYMONTH=10;BYDAY=1SU' },
    standard: { offsetFrom: '+1100', offsetTo: '+1000', name: 'AEST', dtstart: '19700405T030000', rrule: 'FREQ=YEARLY;BYMONTH=4;BYDAY=1SU' },
  },
  'Asia/Tokyo': { standard: { offsetFrom: '+0900', offsetTo: '+0900', name: 'JST', dtstart: '19700101T000000' } },
};

const MINUTE = 60_000;
export const DAY = 86_400_000;

function offsetMinutes(text: string): number {
  const match = /^([+-])(\d\d)(\d\d)$/u.exec(text);
  if (match === null) throw new RangeError(`bad UTC offset ${text}`);
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return match[1] === '-' ? -minutes : minutes;
}

/** Day of month of the n-th (negative: from the end) Sunday of a month. */
function nthSunday(year: number, month: number, n: number): number {
  if (n > 0) {
    const firstWeekday = new Date(Date.UTC(year, month - 1, 1)).getUTCDay();
    return 1 + ((7 - firstWeekday) % 7) + (n - 1) * 7;
  }
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const lastWeekday = new Date(Date.UTC(year, month - 1, lastDay)).getUTCDay();
  return lastDay - lastWeekday + (n + 1) * 7;
}

/** The UTC instants at which an observance begins in a given year (none for a fixed zone). */
function transition(observance: Observance, year: number): number | undefined {
  if (observance.rrule === undefined) return undefined;
  const rule = /BYMONTH=(\d+);BYDAY=(-?\d)SU/u.exec(observance.rrule);
  if (rule === null) throw new RangeError(`unsupported zone rule ${observance.rrule}`);
  const month = Number(rule[1]);
  const day = nthSunday(year, month, Number(rule[2]));
  const time = observance.dtstart.slice(9);
  const wall = Date.UTC(year, month - 1, day, Number(time.slice(0, 2)), Number(time.slice(2, 4)), Number(time.slice(4, 6)));
  return wall - offsetMinutes(observance.offsetFrom) * MINUTE;
}

/** The zone's UTC offset in minutes at a UTC instant. */
export function offsetAt(tzid: string, utc: number): number {
  const zone = ZONES[tzid];
  if (zone === undefined) throw new RangeError(`unknown zone ${tzid}`);
  if (zone.daylight === undefined) return offsetMinutes(zone.standard.offsetTo);
  const year = new Date(utc).getUTCFullYear();
  let best: { at: number; offset: number } | undefined;
  for (const y of [year - 1, year, year + 1]) {
    for (const observance of [zone.standard, zone.daylight]) {
      const at = transition(observance, y);
      if (at !== undefined && at <= utc && (best === undefined || at > best.at)) best = { at, offset: offsetMinutes(observance.offsetTo) };
    }
  }
  return best?.offset ?? offsetMinutes(zone.standard.offsetTo);
}

/**
 * UTC instant of a local wall time (given as the UTC fields of `wall`) in a zone. Times inside a
 * DST gap or overlap are not resolved carefully: the generator never produces them (07:00–23:59).
 */
export function localToUtc(tzid: string, wall: number): number {
  let utc = wall - offsetAt(tzid, wall) * MINUTE;
  utc = wall - offsetAt(tzid, utc) * MINUTE;
  return utc;
}

// ---- recurrences ---------------------------------------------------------------------------------

export interface Recurrence {
  readonly freq: 'DAILY' | 'WEEKLY';
  readonly interval: number;
  /** COUNT=n, or, when `until` is set, UNTIL just after occurrence number `until` (1-based). */
  readonly count: number;
  readonly until: boolean;
}

/** What an event's instances depend on; EventSpec has these fields. */
export interface TimedShape {
  /** Local wall time (UTC fields) for tzid, UTC otherwise; midnight of the date when allDay. */
  readonly start: Date;
  readonly durationMinutes: number;
  readonly allDay: boolean;
  readonly tzid: string | undefined;
  readonly recurrence: Recurrence | undefined;
}

export interface Instance {
  /** UTC milliseconds; all-day (floating) dates are read as UTC, the server's zone when none is set. */
  readonly start: number;
  readonly end: number;
}

function stepMs(recurrence: Recurrence): number {
  return recurrence.interval * (recurrence.freq === 'DAILY' ? 1 : 7) * DAY;
}

function wallToUtc(shape: TimedShape, wall: number): number {
  return shape.tzid === undefined ? wall : localToUtc(shape.tzid, wall);
}

/** Every instance of the event, in order (COUNT and UNTIL rules are finite). */
export function eventInstances(shape: TimedShape): Instance[] {
  const length = (shape.allDay ? shape.durationMinutes * 24 * 60 : shape.durationMinutes) * MINUTE;
  const first = shape.start.getTime();
  const count = shape.recurrence?.count ?? 1;
  const step = shape.recurrence === undefined ? 0 : stepMs(shape.recurrence);
  const instances: Instance[] = [];
  for (let i = 0; i < count; i++) {
    const start = wallToUtc(shape, first + i * step);
    instances.push({ start, end: start + length });
  }
  return instances;
}

/**
 * The RRULE value for a recurrence. UNTIL is written in UTC (RFC 5545 §3.3.10: required when DTSTART
 * has a TZID) one hour after the last wanted instance starts, or as that instance's DATE for all-day.
 */
export function rruleText(shape: TimedShape): string | undefined {
  const recurrence = shape.recurrence;
  if (recurrence === undefined) return undefined;
  const parts = [`FREQ=${recurrence.freq}`];
  if (recurrence.interval > 1) parts.push(`INTERVAL=${recurrence.interval}`);
  if (!recurrence.until) {
    parts.push(`COUNT=${recurrence.count}`);
  } else {
    const lastWall = shape.start.getTime() + (recurrence.count - 1) * stepMs(recurrence);
    parts.push(`UNTIL=${shape.allDay ? formatDateValue(lastWall) : `${formatDateTimeValue(wallToUtc(shape, lastWall) + 3_600_000)}Z`}`);
  }
  return parts.join(';');
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/** YYYYMMDD of the UTC fields of ms. */
export function formatDateValue(ms: number): string {
  const date = new Date(ms);
  return `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}`;
}

/** YYYYMMDDTHHMMSS of the UTC fields of ms (no Z). */
export function formatDateTimeValue(ms: number): string {
  const date = new Date(ms);
  return `${formatDateValue(ms)}T${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`;
}

/** [start, end) overlap in the sense of RFC 4791 §9.9 for a VEVENT with DTEND after DTSTART. */
export function overlaps(instance: Instance, rangeStart: number, rangeEnd: number): boolean {
  return instance.start < rangeEnd && instance.end > rangeStart;
}

// ---- reading returned iCalendar ------------------------------------------------------------------

export interface ContentLine {
  readonly name: string;
  readonly params: Readonly<Record<string, string>>;
  readonly value: string;
}

/** Unfolded content lines of an iCalendar or vCard text (CRLF or LF, any folding). */
export function contentLines(text: string): ContentLine[] {
  const lines: ContentLine[] = [];
  for (const raw of text.replace(/\r?\n[ \t]/gu, '').split(/\r?\n/u)) {
    if (raw.trim() === '') continue;
    // The value starts at the first ':' outside a quoted parameter value.
    let quoted = false;
    let colon = -1;
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i];
      if (c === '"') quoted = !quoted;
      else if (c === ':' && !quoted) {
        colon = i;
        break;
      }
    }
    if (colon === -1) continue;
    const [rawName = '', ...rawParams] = raw.slice(0, colon).split(';');
    const params: Record<string, string> = {};
    for (const param of rawParams) {
      const eq = param.indexOf('=');
      if (eq !== -1) params[param.slice(0, eq).toUpperCase()] = param.slice(eq + 1).replace(/^"|"$/gu, '');
    }
    // Groups (item1.EMAIL) are dropped from the name.
    const name = rawName.slice(rawName.lastIndexOf('.') + 1).toUpperCase();
    lines.push({ name, params, value: raw.slice(colon + 1) });
  }
  return lines;
}

/** The components of one type (e.g. VEVENT) as lists of their own lines (nested ones excluded). */
export function components(lines: readonly ContentLine[], type: string): ContentLine[][] {
  const found: ContentLine[][] = [];
  let current: ContentLine[] | undefined;
  let depth = 0;
  for (const line of lines) {
    if (line.name === 'BEGIN') {
      if (current !== undefined) depth += 1;
      else if (line.value.toUpperCase() === type) current = [];
      continue;
    }
    if (line.name === 'END') {
      if (current !== undefined && depth > 0) depth -= 1;
      else if (current !== undefined && line.value.toUpperCase() === type) {
        found.push(current);
        current = undefined;
      }
      continue;
    }
    if (current !== undefined && depth === 0) current.push(line);
  }
  return found;
}

/** A DATE or DATE-TIME property as UTC ms: Z is UTC, a known TZID is converted, floating and DATE read as UTC. */
export function dateValueMs(line: ContentLine): number | undefined {
  const match = /^(\d{4})(\d\d)(\d\d)(?:T(\d\d)(\d\d)(\d\d)(Z)?)?$/u.exec(line.value.trim());
  if (match === null) return undefined;
  const wall = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]), Number(match[4] ?? 0), Number(match[5] ?? 0), Number(match[6] ?? 0));
  if (match[4] === undefined || match[7] === 'Z') return wall;
  const tzid = line.params.TZID;
  if (tzid === undefined) return wall;
  if (ZONES[tzid] === undefined) return undefined;
  return localToUtc(tzid, wall);
}
