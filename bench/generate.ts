// Deterministic test data for the benchmarks: a seeded PRNG, realistic iCalendar VEVENTs and VTODOs
// (CRLF, folded at 75 octets, ~20% recurring, alarms, named time zones with their VTIMEZONE) and
// vCards, built from plain specs so the benches can revise them and compute the answers they expect.
import { ZONES, formatDateTimeValue, rruleText, type Recurrence } from './calendar-time.ts';

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

function sentence(random: Random, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(pick(random, WORDS));
  const text = out.join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

// ---- events ----------------------------------------------------------------------------------------

export interface EventSpec {
  readonly kind: 'event';
  readonly uid: string;
  /** Resource name inside a calendar collection, e.g. `evt-000042-1a2b3c4d.ics`. */
  readonly name: string;
  readonly sequence: number;
  readonly dtstamp: Date;
  /** Local wall time in tzid (its UTC fields), UTC without tzid, midnight of the date when allDay. */
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
  /** DAILY or WEEKLY with COUNT or UNTIL, so every instance can be computed (calendar-time.ts). */
  readonly recurrence: Recurrence | undefined;
  readonly alarmMinutesBefore: number | undefined;
  readonly organizer: string | undefined;
  readonly attendees: readonly string[];
}

export interface EventOptions {
  /** Years DTSTART is drawn from, inclusive; default 2019–2028. */
  readonly fromYear?: number;
  readonly toYear?: number;
  /** Share of recurring events; default 0.2. */
  readonly recurring?: number;
}

const BASE_DTSTAMP = Date.UTC(2025, 0, 1);

function randomRecurrence(random: Random): Recurrence {
  const daily = chance(random, 0.4);
  return daily
    ? { freq: 'DAILY', interval: pick(random, [1, 1, 2, 3]), count: randomInt(random, 3, 20), until: chance(random, 0.4) }
    : { freq: 'WEEKLY', interval: pick(random, [1, 1, 1, 2]), count: randomInt(random, 4, 26), until: chance(random, 0.4) };
}

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
    kind: 'event',
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
    recurrence: chance(random, options.recurring ?? 0.2) ? randomRecurrence(random) : undefined,
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
  const rrule = rruleText(spec);
  if (rrule !== undefined) lines.push(`RRULE:${rrule}`);
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

function calendarLines(tzid: string | undefined, body: readonly string[]): string[] {
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Almanac//bench generator//EN', 'CALSCALE:GREGORIAN'];
  if (tzid !== undefined) lines.push(...vtimezoneLines(tzid));
  lines.push(...body, 'END:VCALENDAR');
  return lines;
}

/** A complete calendar object resource (text/calendar) for the spec. */
export function renderEvent(spec: EventSpec): string {
  return toICalendar(calendarLines(spec.tzid, veventLines(spec)));
}

/** `count` event specs from one seed; the same seed and count always give the same events. */
export function generateEventSpecs(count: number, seed = 42, options: EventOptions = {}): EventSpec[] {
  const random = mulberry32(seed);
  const specs: EventSpec[] = [];
  for (let i = 0; i < count; i++) specs.push(eventSpec(random, i, options));
  return specs;
}

// ---- tasks -----------------------------------------------------------------------------------------

const TASK_TOPICS = ['File expense report', 'Renew passport', 'Call plumber', 'Prepare slides', 'Review pull request', 'Buy birthday present', 'Book flights', 'Update CV', 'Pay invoice', 'Water the plants', 'Write minutes', 'Order printer toner'];

export interface TaskSpec {
  readonly kind: 'task';
  readonly uid: string;
  /** e.g. `task-000042-1a2b3c4d.ics`. */
  readonly name: string;
  readonly sequence: number;
  readonly dtstamp: Date;
  /** Local wall time in tzid (its UTC fields), UTC without; a DATE when allDay. */
  readonly due: Date | undefined;
  readonly start: Date | undefined;
  readonly allDay: boolean;
  readonly tzid: string | undefined;
  readonly summary: string;
  readonly description: string;
  readonly status: 'NEEDS-ACTION' | 'IN-PROCESS' | 'COMPLETED';
  readonly percentComplete: number;
  readonly priority: number;
  readonly completed: Date | undefined;
  /** UID of a parent task (RELATED-TO), in a few tasks. */
  readonly relatedTo: string | undefined;
  readonly categories: readonly string[];
}

export function taskSpec(random: Random, index: number, options: EventOptions = {}): TaskSpec {
  const tag = hex(random, 8);
  const allDay = chance(random, 0.5);
  const year = randomInt(random, options.fromYear ?? 2019, options.toYear ?? 2028);
  const day = randomInt(random, 0, 364);
  const due = chance(random, 0.8) ? new Date(allDay ? Date.UTC(year, 0, 1 + day) : Date.UTC(year, 0, 1 + day, randomInt(random, 8, 18), 0)) : undefined;
  const start = due !== undefined && chance(random, 0.4) ? new Date(due.getTime() - randomInt(random, 1, 10) * 86_400_000) : undefined;
  const status = pick(random, ['NEEDS-ACTION', 'NEEDS-ACTION', 'IN-PROCESS', 'COMPLETED'] as const);
  return {
    kind: 'task',
    uid: `${tag}-${pad(index, 6)}-${hex(random, 12)}@tasks.bench.almanac.example`,
    name: `task-${pad(index, 6)}-${tag}.ics`,
    sequence: 0,
    dtstamp: new Date(BASE_DTSTAMP + randomInt(random, 0, 365 * 24 * 3600) * 1000),
    due,
    start,
    allDay,
    tzid: !allDay && chance(random, 0.4) ? pick(random, TIME_ZONES) : undefined,
    summary: `${pick(random, TASK_TOPICS)}${pick(random, QUALIFIERS)}`,
    description: chance(random, 0.6) ? sentence(random, randomInt(random, 5, 25)) : '',
    status,
    percentComplete: status === 'COMPLETED' ? 100 : status === 'IN-PROCESS' ? randomInt(random, 1, 9) * 10 : 0,
    priority: pick(random, [0, 1, 5, 9]),
    completed: status === 'COMPLETED' ? new Date(BASE_DTSTAMP + randomInt(random, 0, 365 * 24 * 3600) * 1000) : undefined,
    relatedTo: chance(random, 0.1) ? `${hex(random, 8)}-parent@tasks.bench.almanac.example` : undefined,
    categories: CATEGORIES.filter(() => chance(random, 0.15)),
  };
}

export function reviseTask(random: Random, spec: TaskSpec): TaskSpec {
  const status = pick(random, ['NEEDS-ACTION', 'IN-PROCESS', 'COMPLETED'] as const);
  return {
    ...spec,
    sequence: spec.sequence + 1,
    dtstamp: new Date(spec.dtstamp.getTime() + randomInt(random, 60, 30 * 24 * 3600) * 1000),
    summary: `${pick(random, TASK_TOPICS)}${pick(random, QUALIFIERS)}`,
    status,
    percentComplete: status === 'COMPLETED' ? 100 : status === 'IN-PROCESS' ? 50 : 0,
    completed: status === 'COMPLETED' ? new Date(spec.dtstamp.getTime() + 86_400_000) : undefined,
  };
}

function taskDate(name: string, spec: TaskSpec, value: Date): string {
  if (spec.allDay) return `${name};VALUE=DATE:${formatDate(value)}`;
  if (spec.tzid !== undefined) return `${name};TZID=${spec.tzid}:${formatLocal(value)}`;
  return `${name}:${formatUtc(value)}`;
}

export function vtodoLines(spec: TaskSpec): string[] {
  const lines = ['BEGIN:VTODO', `UID:${spec.uid}`, `DTSTAMP:${formatUtc(spec.dtstamp)}`, `CREATED:${formatUtc(new Date(BASE_DTSTAMP))}`, `LAST-MODIFIED:${formatUtc(spec.dtstamp)}`];
  if (spec.sequence > 0) lines.push(`SEQUENCE:${spec.sequence}`);
  lines.push(`SUMMARY:${escapeText(spec.summary)}`);
  if (spec.description !== '') lines.push(`DESCRIPTION:${escapeText(spec.description)}`);
  if (spec.start !== undefined) lines.push(taskDate('DTSTART', spec, spec.start));
  if (spec.due !== undefined) lines.push(taskDate('DUE', spec, spec.due));
  lines.push(`STATUS:${spec.status}`, `PRIORITY:${spec.priority}`);
  if (spec.percentComplete > 0) lines.push(`PERCENT-COMPLETE:${spec.percentComplete}`);
  if (spec.completed !== undefined) lines.push(`COMPLETED:${formatUtc(spec.completed)}`);
  if (spec.relatedTo !== undefined) lines.push(`RELATED-TO;RELTYPE=PARENT:${spec.relatedTo}`);
  if (spec.categories.length > 0) lines.push(`CATEGORIES:${spec.categories.join(',')}`);
  lines.push('END:VTODO');
  return lines;
}

export function renderTask(spec: TaskSpec): string {
  return toICalendar(calendarLines(spec.tzid, vtodoLines(spec)));
}

// ---- calendar items ----------------------------------------------------------------------------------

/** What a calendar holds: events and (about 8%) tasks. */
export type CalendarItem = EventSpec | TaskSpec;

export function renderItem(item: CalendarItem): string {
  return item.kind === 'event' ? renderEvent(item) : renderTask(item);
}

export function reviseItem(random: Random, item: CalendarItem): CalendarItem {
  return item.kind === 'event' ? reviseEvent(random, item) : reviseTask(random, item);
}

/** `count` calendar items from one seed: events (~20% recurring) with about 8% tasks among them. */
export function generateCalendarItems(count: number, seed = 42, options: EventOptions & { readonly tasks?: number } = {}): CalendarItem[] {
  const random = mulberry32(seed);
  const items: CalendarItem[] = [];
  for (let i = 0; i < count; i++) items.push(chance(random, options.tasks ?? 0.08) ? taskSpec(random, i, options) : eventSpec(random, i, options));
  return items;
}

// ---- contacts --------------------------------------------------------------------------------------

const GIVEN_NAMES = ['Anna', 'José', 'Zoë', 'Łukasz', 'Søren', 'Anaïs', 'Björn', 'Chen', 'Dara', 'Emily', 'Farid', 'Grace', 'Hugo', 'Ines', 'Jakob', 'Keiko', 'Liam', 'Mei', 'Nora', 'Oscar', 'Priya', 'Quentin', 'Rosa', 'Samuel', 'Tariq', 'Uma', 'Viktor', 'Wen', 'Ximena', 'Yusuf', 'Zara', 'Amélie', 'Bruno', 'Carla', 'David', 'Elena', 'Felix', 'Giulia', 'Hannah', 'Ivan'];
const FAMILY_NAMES = ['Andersson', 'Lindberg', 'Müller', 'García', 'Nguyen', 'Okafor', "O'Brien", 'Silva', 'Kowalski', 'Rossi', 'Dubois', 'Tanaka', 'Kim', 'Haddad', 'Novák', 'Schmidt', 'Johansson', 'Fischer', 'Eriksson', 'Larsen', 'Martin', 'Weber', 'Costa', 'Ivanova', 'Petrov', 'Yilmaz', 'Moreau', 'Jensen', 'Bianchi', 'Santos', 'Hernández', 'Lopez', 'Wagner', 'Becker', 'Hoffmann', 'Schulz', 'Keller', 'Richter', 'Wolf', 'Neumann', 'Schwarz', 'Zimmermann', 'Krüger', 'Hartmann', 'Lange', 'Werner', 'Krause', 'Meier', 'Lehmann', 'Köhler', 'Maier', 'Walter', 'Peters', 'Fuchs', 'Vogel', 'Friedrich', 'Günther', 'Roth', 'Sommer', 'Brandt', 'Haas', 'Graf', 'Schreiber', 'Dietrich', 'Ziegler', 'Kuhn', 'Pohl', 'Engel', 'Horn', 'Busch', 'Bergström', 'Voigt', 'Sauer', 'Arnold', 'Kaiser', 'Huber', 'Ludwig', 'Jäger', 'Otto', 'Winter'];
const ORGANISATIONS = ['Acme GmbH', 'Globex Corporation', 'Initech', 'Umbrella Health', 'Stark Industries', 'Wayne Enterprises', 'Université de Lyon', 'City Council', 'Müller & Söhne KG', 'Nakatomi Trading'];
const TITLES = ['Engineer', 'Project Manager', 'CEO', 'Designer', 'Accountant', 'Nurse', 'Teacher', 'Consultant', 'Sales Director', ''];
const STREETS = ['Hauptstraße', 'Rue de la Paix', 'Baker Street', 'Calle Mayor', 'Via Roma', 'Kungsgatan', 'Elm Street'];
const CITIES: readonly (readonly [string, string, string])[] = [['Berlin', '10115', 'Germany'], ['Paris', '75002', 'France'], ['London', 'NW1 6XE', 'United Kingdom'], ['Madrid', '28013', 'Spain'], ['Roma', '00184', 'Italy'], ['Stockholm', '111 43', 'Sweden'], ['Springfield', '62701', 'USA']];
const CONTACT_GROUPS = ['Family', 'Friends', 'Work', 'Book club', 'Neighbours', 'School'];

/** The FN text-match term the addressbook-query scenario searches for (matches ~2.5% of contacts). */
export const CONTACT_SEARCH_TERM = 'berg';
/** Matches the work addresses of a few organisations and the home addresses of some families. */
export const CONTACT_EMAIL_TERM = 'son';

export interface ContactSpec {
  readonly uid: string;
  /** e.g. `card-000042-1a2b3c4d.vcf`. */
  readonly name: string;
  readonly version: '3.0' | '4.0';
  readonly given: string;
  readonly family: string;
  readonly fn: string;
  readonly nickname: string | undefined;
  readonly org: string | undefined;
  readonly title: string;
  readonly emails: readonly { readonly type: string; readonly address: string }[];
  readonly phones: readonly { readonly type: string; readonly number: string }[];
  readonly address: { readonly street: string; readonly city: string; readonly code: string; readonly country: string } | undefined;
  readonly birthday: Date | undefined;
  readonly note: string;
  readonly categories: readonly string[];
  readonly revision: Date;
}

function asciiLocal(text: string): string {
  return text.normalize('NFKD').replace(/[^A-Za-z]/gu, '').toLowerCase();
}

export function contactSpec(random: Random, index: number): ContactSpec {
  const tag = hex(random, 8);
  const given = pick(random, GIVEN_NAMES);
  const family = pick(random, FAMILY_NAMES);
  const org = chance(random, 0.5) ? pick(random, ORGANISATIONS) : undefined;
  const emails = [{ type: 'HOME', address: `${asciiLocal(given)}.${asciiLocal(family)}${randomInt(random, 1, 99)}@mail.example` }];
  if (org !== undefined && chance(random, 0.7)) emails.push({ type: 'WORK', address: `${asciiLocal(given).charAt(0)}${asciiLocal(family)}@${asciiLocal(org).slice(0, 10)}.example.com` });
  const phones = [{ type: 'CELL', number: `+${randomInt(random, 1, 49)} ${randomInt(random, 100, 999)} ${randomInt(random, 1000000, 9999999)}` }];
  if (chance(random, 0.4)) phones.push({ type: pick(random, ['HOME', 'WORK']), number: `+${randomInt(random, 1, 49)} ${randomInt(random, 10, 99)} ${randomInt(random, 100000, 999999)}` });
  const city = pick(random, CITIES);
  return {
    uid: `${tag}-${pad(index, 6)}-${hex(random, 12)}@contacts.bench.almanac.example`,
    name: `card-${pad(index, 6)}-${tag}.vcf`,
    version: chance(random, 0.15) ? '4.0' : '3.0',
    given,
    family,
    fn: `${given} ${family}`,
    nickname: chance(random, 0.1) ? given.slice(0, 3) : undefined,
    org,
    title: org === undefined ? '' : pick(random, TITLES),
    emails,
    phones,
    address: chance(random, 0.5) ? { street: `${pick(random, STREETS)} ${randomInt(random, 1, 200)}`, city: city[0], code: city[1], country: city[2] } : undefined,
    birthday: chance(random, 0.4) ? new Date(Date.UTC(randomInt(random, 1940, 2010), randomInt(random, 0, 11), randomInt(random, 1, 28))) : undefined,
    note: chance(random, 0.3) ? sentence(random, randomInt(random, 4, 20)) : '',
    categories: CONTACT_GROUPS.filter(() => chance(random, 0.15)),
    revision: new Date(BASE_DTSTAMP + randomInt(random, 0, 365 * 24 * 3600) * 1000),
  };
}

/** vCard TEXT escaping for structured values (RFC 6350 §3.4: backslash, comma, semicolon, newline). */
function escapeComponent(text: string): string {
  return text.replace(/[\\;,]/gu, (c) => `\\${c}`).replace(/\r?\n/gu, '\\n');
}

/** The vCard (3.0 or 4.0, CRLF, folded) for a contact spec. */
export function renderContact(spec: ContactSpec): string {
  const v4 = spec.version === '4.0';
  const lines = ['BEGIN:VCARD', `VERSION:${spec.version}`, 'PRODID:-//Almanac//bench generator//EN', `UID:${v4 ? `urn:uuid:${spec.uid}` : spec.uid}`];
  if (v4) lines.push('KIND:individual');
  lines.push(`FN:${escapeComponent(spec.fn)}`, `N:${escapeComponent(spec.family)};${escapeComponent(spec.given)};;;`);
  if (spec.nickname !== undefined) lines.push(`NICKNAME:${escapeComponent(spec.nickname)}`);
  if (spec.org !== undefined) lines.push(`ORG:${escapeComponent(spec.org)}`);
  if (spec.title !== '') lines.push(`TITLE:${escapeComponent(spec.title)}`);
  for (const email of spec.emails) lines.push(v4 ? `EMAIL;TYPE=${email.type.toLowerCase()}:${email.address}` : `EMAIL;TYPE=INTERNET,${email.type}:${email.address}`);
  for (const phone of spec.phones) {
    lines.push(v4 ? `TEL;VALUE=uri;TYPE=${phone.type.toLowerCase()}:tel:${phone.number.replace(/ /gu, '-')}` : `TEL;TYPE=${phone.type}:${phone.number}`);
  }
  if (spec.address !== undefined) {
    const a = spec.address;
    lines.push(`ADR;TYPE=${v4 ? 'home' : 'HOME'}:;;${escapeComponent(a.street)};${escapeComponent(a.city)};;${escapeComponent(a.code)};${escapeComponent(a.country)}`);
  }
  if (spec.birthday !== undefined) lines.push(v4 ? `BDAY:${formatDate(spec.birthday)}` : `BDAY:${spec.birthday.toISOString().slice(0, 10)}`);
  if (spec.note !== '') lines.push(`NOTE:${escapeComponent(spec.note)}`);
  if (spec.categories.length > 0) lines.push(`CATEGORIES:${spec.categories.map(escapeComponent).join(',')}`);
  lines.push(`REV:${formatDateTimeValue(spec.revision.getTime())}Z`, 'END:VCARD');
  return toICalendar(lines);
}

export function generateContacts(count: number, seed = 42): ContactSpec[] {
  const random = mulberry32(seed);
  const specs: ContactSpec[] = [];
  for (let i = 0; i < count; i++) specs.push(contactSpec(random, i));
  return specs;
}

/**
 * Whether a contact's FN contains the term the way RFC 4790's i;unicode-casemap compares (case
 * folded, NFKD). Throws when plain lower-casing would decide differently: the data must not leave
 * servers room to disagree about the right answer.
 */
export function contactMatches(spec: ContactSpec, term: string): boolean {
  const folded = spec.fn.normalize('NFKD').toLowerCase().includes(term.normalize('NFKD').toLowerCase());
  const plain = spec.fn.toLowerCase().includes(term.toLowerCase());
  if (folded !== plain) throw new RangeError(`the search term ${term} is ambiguous for ${spec.fn}`);
  return folded;
}

/** Whether one of a contact's e-mail addresses contains the term (ASCII only, so every collation agrees). */
export function contactEmailMatches(spec: ContactSpec, term: string): boolean {
  if (!/^[\x20-\x7e]+$/u.test(term)) throw new RangeError(`the e-mail search term ${term} must be ASCII`);
  return spec.emails.some((email) => email.address.toLowerCase().includes(term.toLowerCase()));
}
