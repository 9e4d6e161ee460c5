// Turning bytes and text into one VCALENDAR component, refusing what is not iCalendar (RFC 5545 §3)
// with a message a person can act on. Imports nothing of ours outside src/ical.
import ICAL from 'ical.js';
import { prepareTimezones } from './timezones.ts';
import { InvalidCalendarObject } from './types.ts';

const BOM = '\uFEFF';

/** The line (1-based) of `text` holding character `index`. */
function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/**
 * A body as text: it must be UTF-8 (RFC 5545 §3.1.4 default charset; RFC 4791 §5.3.2.1 refuses
 * anything else as CALDAV:valid-calendar-data). A UTF-8 byte-order mark is dropped.
 */
export function decodeCalendarBytes(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const lenient = new TextDecoder('utf-8').decode(bytes);
    const at = lenient.indexOf('\uFFFD');
    const where = at === -1 ? '' : ` (line ${lineOf(lenient, at)})`;
    throw new InvalidCalendarObject('valid-calendar-data', `The calendar data is not valid UTF-8 text${where}; iCalendar must be sent as UTF-8.`);
  }
}

/**
 * RFC 5545 §3.1 allows no control characters but HTAB in content (CR only before LF, or ending the text). ical.js accepts
 * them silently, so they are refused here, with the line they are on.
 */
function controlCharacterProblem(text: string): string | null {
  // eslint-disable-next-line no-control-regex
  const match = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]|\r(?!\n|$)/.exec(text);
  if (match === null) return null;
  const code = match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  const what = match[0] === '\r' ? 'a carriage return that does not end a line' : `the control character U+${code}`;
  return `Line ${lineOf(text, match.index)} contains ${what}, which iCalendar does not allow.`;
}

/**
 * ical.js names no line numbers; when its message quotes the offending text (last quote first), find
 * the line that starts with it, else one that contains it.
 */
function withLine(message: string, text: string): string {
  const lines = text.split('\n');
  const quoted = [...message.matchAll(/"([^"]+)"|'([^']+)'/g)].reverse();
  for (const match of quoted) {
    const snippet = (match[1] ?? match[2] ?? '').split(/\r?\n|\\r\\n/)[0]?.trim().slice(0, 60) ?? '';
    if (snippet === '') continue;
    let index = lines.findIndex((line) => line.trimStart().startsWith(snippet));
    if (index === -1) index = lines.findIndex((line) => line.includes(snippet));
    if (index !== -1) return `${message} (line ${index + 1})`;
  }
  return message;
}

/** What ical.js makes of a DATE-TIME-typed value that holds only a date ("20041225" → "2004-12-25T::"). */
const DATE_ONLY = /^(\d{4}-\d{2}-\d{2})T::$/;

/**
 * Lenient reading: a DATE-TIME property whose values are all plain dates (DTSTART:20041225, written
 * by Google and others without VALUE=DATE) is read as DATE, as it was meant. Anything else malformed
 * is left for validation to refuse.
 */
function readDateOnlyValuesAsDates(component: ICAL.Component): void {
  for (const property of component.getAllProperties()) {
    if (property.type !== 'date-time') continue;
    const values = (property.toJSON() as unknown[]).slice(3);
    const dates = values.map((v) => (typeof v === 'string' ? DATE_ONLY.exec(v)?.[1] : undefined));
    if (dates.length === 0 || dates.some((d) => d === undefined)) continue;
    const times = dates.map((d) => ICAL.Time.fromDateString(d as string));
    property.resetType('date');
    if (property.isMultiValue) property.setValues(times);
    else property.setValue(times[0]);
  }
  for (const child of component.getAllSubcomponents()) readDateOnlyValuesAsDates(child);
}

/**
 * The VCALENDAR of `text`, with prepareTimezones already applied. Refuses with
 * InvalidCalendarObject('valid-calendar-data') anything ical.js cannot parse, control characters, a
 * root that is not VCALENDAR, and several root components (an export of several objects is not one
 * calendar object resource, RFC 4791 §4.1). Empty lines are tolerated, as ical.js does, and a
 * DATE-TIME property holding only dates is read as DATE.
 */
export function parseCalendar(text: string): ICAL.Component {
  const body = text.startsWith(BOM) ? text.slice(1) : text;
  const control = controlCharacterProblem(body);
  if (control !== null) throw new InvalidCalendarObject('valid-calendar-data', control);
  if (body.trim() === '') throw new InvalidCalendarObject('valid-calendar-data', 'The calendar data is empty.');
  let jCal: unknown[];
  try {
    jCal = ICAL.parse(body) as unknown[];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new InvalidCalendarObject('valid-calendar-data', `The calendar data is not valid iCalendar: ${withLine(message, body)}`, { cause: error });
  }
  if (jCal.length === 0) throw new InvalidCalendarObject('valid-calendar-data', 'The calendar data holds no component.');
  if (typeof jCal[0] !== 'string') {
    const names = jCal.map((c) => (Array.isArray(c) ? String(c[0]).toUpperCase() : '?'));
    throw new InvalidCalendarObject('valid-calendar-data',
      `The calendar data holds ${names.length} root components (${[...new Set(names)].join(', ')}); a calendar object resource is exactly one VCALENDAR.`);
  }
  const root = new ICAL.Component(jCal);
  if (root.name !== 'vcalendar') {
    throw new InvalidCalendarObject('valid-calendar-data', `The root component is ${root.name.toUpperCase()}, not VCALENDAR.`);
  }
  try {
    readDateOnlyValuesAsDates(root);
    prepareTimezones(root);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new InvalidCalendarObject('valid-calendar-data', `The calendar data cannot be read: ${message}`, { cause: error });
  }
  return root;
}
