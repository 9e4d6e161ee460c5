// Deterministic test data for the benchmarks: a seeded PRNG and realistic iCalendar VEVENTs (CRLF,
// folded at 75 octets, some recurring, some with alarms, some in a named time zone with its
// VTIMEZONE), built from plain specs so later benches can revise or query them.

/** A seeded source of numbers in [0, 1) — mulberry32, so a seed always yields the same data. */
export type Random = () => number;

export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [min, max], both inclusive. */
export function randomInt(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

export function pick<T>(random: Random, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new RangeError('pick() needs a non-empty list');
  return item;
}

export function chance(random: Random, probability: number): boolean {
  return random() < probability;
}

function hex(random: Random, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += Math.floor(random() * 16).toString(16);
  return out;
}

// ---- time zones ----------------------------------------------------------------------------------

interface ZoneDefinition {
  readonly standard: { readonly offsetFrom: string; readonly offsetTo: string; readonly name: string; readonly dtstart: string; readonly rrule?: string };
  readonly daylight?: { readonly offsetFrom: string; readonly offsetTo: string; readonly name: string; readonly dtstart: string; readonly rrule: string };
}

const ZONES: Readonly<Record<string, ZoneDefinition>> = {
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

export const TIME_ZONES: readonly string[] = Object.keys(ZONES);

/** The VTIMEZONE block (unfolded lines, no trailing CRLF) for one of TIME_ZONES. */
export function vtimezoneLines(tzid: string): string[] {
  const zone = ZONES[tzid];
  if (zone === undefined) throw new RangeError(`no VTIMEZONE for ${tzid}`);
  const lines = ['BEGIN:VTIMEZONE', `TZID:${tzid}`, `X-LIC-LOCATION:${tzid}`];
  if (zone.daylight !== undefined) {
    const d = zone.daylight;
    lines.push('BEGIN:DAYLIGHT', `TZOFFSETFROM:${d.offsetFrom}`, `TZOFFSETTO:${d.offsetTo}`, `TZNAME:${d.name}`, `DTSTART:${d.dtstart}`, `RRULE:${d.rrule}`, 'END:DAYLIGHT');
  }
  const s = zone.standard;
  lines.push('BEGIN:STANDARD', `TZOFFSETFROM:${s.offsetFrom}`, `TZOFFSETTO:${s.offsetTo}`, `TZNAME:${s.name}`, `DTSTART:${s.dtstart}`);
  if (s.rrule !== undefined) lines.push(`RRULE:${s.rrule}`);
  lines.push('END:STANDARD', 'END:VTIMEZONE');
  return lines;
}

// ---- text helpers ----------------------------------------------------------------------------------

/** RFC 5545 §3.3.11 TEXT escaping. */
export function escapeText(text: string): string {
  return text.replace(/[\\;,]/gu, (c) => `\\${c}`).replace(/\r?\n/gu, '\\n');
}

const encoder = new TextEncoder();

/** Folds one content line at 75 octets (RFC 5545 §3.1) without splitting a UTF-8 sequence. */
export function foldLine(line: string): string {
  if (encoder.encode(line).byteLength <= 75) return line;
  const parts: string[] = [];
  let current = '';
  let currentOctets = 0;
  let limit = 75;
  for (const char of line) {
    const octets = encoder.encode(char).byteLength;
    if (currentOctets + octets > limit) {
      parts.push(current);
      current = '';
      currentOctets = 0;
      limit = 74; // continuation lines start with a space
    }
    current += char;
    currentOctets += octets;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

/** Joins unfolded content lines into an iCalendar stream: folded, CRLF after every line. */
export function toICalendar(lines: readonly string[]): string {
  return lines.map((line) => `${foldLine(line)}\r\n`).join('');
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

function formatDate(date: Date): string {
  return `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}`;
}

/** Local (floating or TZID) date-time from the UTC fields of date. */
function formatLocal(date: Date): string {
  return `${formatDate(date)}T${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`;
}

function formatUtc(date: Date): string {
  return `${formatLocal(date)}Z`;
}

// ---- vocabulary ------------------------------------------------------------------------------------

const TOPICS = ['Team sync', 'Quarterly review', 'Dentist', 'Lunch with Ana', 'Sprint planning', 'Yoga', 'Parent–teacher meeting', 'Flight to Zürich', 'Budget workshop', 'Board meeting', 'Code review', '1:1 with manager', 'Piano lesson', 'Café catch-up', 'Release retrospective', 'Car service', 'Book club', 'Onboarding session', 'Customer call', 'Architecture review'];
const QUALIFIERS = ['', '', '', ' (rescheduled)', ' – remote', ' @ HQ', ' [tentative]', ' #2', ', bring laptop'];
const LOCATIONS = ['Room 4.12, Building B', 'Main Street 12, Springfield', 'Online; link in description', 'Café Central, Herrengasse 14, Wien', 'Conference room "Everest"', 'Home office', 'Terminal 2, Gate 31', ''];
const CATEGORIES = ['WORK', 'PERSONAL', 'MEETING', 'TRAVEL', 'HEALTH', 'FAMILY'];
const PEOPLE = ['ana.silva', 'bjorn.larsen', 'chen.wei', 'dara.okafor', 'eve.martin', 'farid.haddad', 'grace.kim', 'hugo.lefevre'];
const WORDS = 'agenda review the numbers from last quarter and agree on next steps please read the attached notes before we meet we will also discuss hiring roadmap priorities budget risks dependencies open questions action items follow up with the vendor about delivery dates confirm travel arrangements and share the slides afterwards dial in details are below'.split(' ');
const RRULES = ['FREQ=WEEKLY;BYDAY=MO,WE,FR', 'FREQ=WEEKLY;INTERVAL=2;BYDAY=TU', 'FREQ=DAILY;COUNT=10', 'FREQ=MONTHLY;BYMONTHDAY=15', 'FREQ=MONTHLY;BYDAY=1MO', 'FREQ=YEARLY', 'FREQ=WEEKLY;COUNT=12;BYDAY=TH'];

function sentence(random: Random, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(pick(random, WORDS));
  const text = out.join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

// ---- events ----------------------------------------------------------------------------------------

export interface EventSpec {
  readonly uid: string;
  /** Resource name inside a calendar collection, e.g. `evt-000042-1a2b3c4d.ics`. */
  readonly name: string;
  readonly sequence: number;
  readonly dtstamp: Date;
  readonly start: Date;
  /** Whole days when allDay; the end is exclusive. */
  readonly durationMinutes: number;
  readonly allDay: boolean;
  /** Local time in this zone (with a VTIMEZONE in the object); undefined means UTC. */
  readonly tzid: string | undefined;
  readonly summary: string;
  readonly location: string;
  readonly description: string;
  readonly categories: readonly string[];
  readonly rrule: string | undefined;
  readonly alarmMinutesBefore: number | undefined;
  readonly organizer: string | undefined;
  readonly attendees: readonly string[];
}

export interface EventOptions {
  /** Years DTSTART is drawn from, inclusive; default 2019–2028. */
  readonly fromYear?: number;
  readonly toYear?: number;
}

const BASE_DTSTAMP = Date.UTC(2025, 0, 1);

/** A random but reproducible event spec; index makes UID and name unique within a run. */
export function eventSpec(random: Random, index: number, options: EventOptions = {}): EventSpec {
  const fromYear = options.fromYear ?? 2019;
  const toYear = options.toYear ?? 2028;
  const tag = hex(random, 8);
  const allDay = chance(random, 0.15);
  const year = randomInt(random, fromYear, toYear);
  const dayOfYear = randomInt(random, 0, 364);
  const start = allDay
    ? new Date(Date.UTC(year, 0, 1 + dayOfYear))
    : new Date(Date.UTC(year, 0, 1 + dayOfYear, randomInt(random, 7, 19), pick(random, [0, 15, 30, 45])));
  const durationMinutes = allDay ? randomInt(random, 1, 3) : pick(random, [15, 30, 45, 60, 60, 90, 120, 240]);
  const hasAttendees = chance(random, 0.35);
  const attendees = hasAttendees ? PEOPLE.filter(() => chance(random, 0.3)).map((p) => `${p}@example.com`) : [];
  const paragraphs = randomInt(random, 1, 4);
  const description: string[] = [];
  for (let p = 0; p < paragraphs; p++) description.push(sentence(random, randomInt(random, 6, 30)));
  return {
    uid: `${tag}-${pad(index, 6)}-${hex(random, 12)}@bench.almanac.example`,
    name: `evt-${pad(index, 6)}-${tag}.ics`,
    sequence: 0,
    dtstamp: new Date(BASE_DTSTAMP + randomInt(random, 0, 365 * 24 * 3600) * 1000),
    start,
    durationMinutes,
    allDay,
    tzid: !allDay && chance(random, 0.4) ? pick(random, TIME_ZONES) : undefined,
    summary: `${pick(random, TOPICS)}${pick(random, QUALIFIERS)}`,
    location: pick(random, LOCATIONS),
    description: description.join('\n\n'),
    categories: CATEGORIES.filter(() => chance(random, 0.2)),
    rrule: chance(random, 0.25) ? pick(random, RRULES) : undefined,
    alarmMinutesBefore: chance(random, 0.4) ? pick(random, [5, 10, 15, 30, 60, 1440]) : undefined,
    organizer: attendees.length > 0 ? `${pick(random, PEOPLE)}@example.com` : undefined,
    attendees,
  };
}

/** The spec as a client would send it after an edit: same UID and name, next SEQUENCE, new details. */
export function reviseEvent(random: Random, spec: EventSpec): EventSpec {
  return {
    ...spec,
    sequence: spec.sequence + 1,
    dtstamp: new Date(spec.dtstamp.getTime() + randomInt(random, 60, 30 * 24 * 3600) * 1000),
    summary: `${pick(random, TOPICS)}${pick(random, QUALIFIERS)}`,
    start: new Date(spec.start.getTime() + pick(random, [-1, 1]) * randomInt(random, 0, 14) * 24 * 3600 * 1000),
    location: pick(random, LOCATIONS),
  };
}

/** The VEVENT lines (unfolded) of a spec, without VCALENDAR or VTIMEZONE around them. */
export function veventLines(spec: EventSpec): string[] {
  const end = new Date(spec.start.getTime() + (spec.allDay ? spec.durationMinutes * 24 * 60 : spec.durationMinutes) * 60_000);
  const lines = ['BEGIN:VEVENT', `UID:${spec.uid}`, `DTSTAMP:${formatUtc(spec.dtstamp)}`, `CREATED:${formatUtc(new Date(BASE_DTSTAMP))}`, `LAST-MODIFIED:${formatUtc(spec.dtstamp)}`];
  if (spec.sequence > 0) lines.push(`SEQUENCE:${spec.sequence}`);
  if (spec.allDay) {
    lines.push(`DTSTART;VALUE=DATE:${formatDate(spec.start)}`, `DTEND;VALUE=DATE:${formatDate(end)}`);
  } else if (spec.tzid !== undefined) {
    lines.push(`DTSTART;TZID=${spec.tzid}:${formatLocal(spec.start)}`, `DTEND;TZID=${spec.tzid}:${formatLocal(end)}`);
  } else {
    lines.push(`DTSTART:${formatUtc(spec.start)}`, `DTEND:${formatUtc(end)}`);
  }
  if (spec.rrule !== undefined) lines.push(`RRULE:${spec.rrule}`);
  lines.push(`SUMMARY:${escapeText(spec.summary)}`);
  if (spec.location !== '') lines.push(`LOCATION:${escapeText(spec.location)}`);
  lines.push(`DESCRIPTION:${escapeText(spec.description)}`);
  if (spec.categories.length > 0) lines.push(`CATEGORIES:${spec.categories.join(',')}`);
  lines.push(`STATUS:${spec.attendees.length > 0 ? 'CONFIRMED' : 'TENTATIVE'}`, 'TRANSP:OPAQUE', 'CLASS:PUBLIC');
  if (spec.organizer !== undefined) lines.push(`ORGANIZER;CN=${spec.organizer.split('@')[0] ?? ''}:mailto:${spec.organizer}`);
  for (const attendee of spec.attendees) {
    lines.push(`ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=${attendee.split('@')[0] ?? ''}:mailto:${attendee}`);
  }
  if (spec.alarmMinutesBefore !== undefined) {
    lines.push('BEGIN:VALARM', 'ACTION:DISPLAY', `DESCRIPTION:${escapeText(spec.summary)}`, `TRIGGER:-PT${spec.alarmMinutesBefore}M`, `X-WR-ALARMUID:${spec.uid.slice(0, 8)}-alarm`, 'END:VALARM');
  }
  lines.push('END:VEVENT');
  return lines;
}

/** A complete calendar object resource (text/calendar) for the spec. */
export function renderEvent(spec: EventSpec): string {
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Almanac//bench generator//EN', 'CALSCALE:GREGORIAN'];
  if (spec.tzid !== undefined) lines.push(...vtimezoneLines(spec.tzid));
  lines.push(...veventLines(spec), 'END:VCALENDAR');
  return toICalendar(lines);
}

/** `count` event specs from one seed; the same seed and count always give the same events. */
export function generateEventSpecs(count: number, seed = 42, options: EventOptions = {}): EventSpec[] {
  const random = mulberry32(seed);
  const specs: EventSpec[] = [];
  for (let i = 0; i < count; i++) specs.push(eventSpec(random, i, options));
  return specs;
}
