// Tests for RFC 4791 §9.7 calendar-query filter evaluation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type ICAL from 'ical.js';
import { matchesFilter } from './filter.ts';
import { parseCalendar } from './parse.ts';
import { prepareTimezones, resolveZone } from './timezones.ts';
import type { CompFilter, ParamFilter, PropFilter, QueryOptions, TextMatch, TimeRange } from './types.ts';

function load(...lines: string[]): ICAL.Component {
  const vcalendar = parseCalendar(['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Test//Test//EN', ...lines, 'END:VCALENDAR', ''].join('\r\n'));
  prepareTimezones(vcalendar);
  return vcalendar;
}

/** 'YYYYMMDDTHHMMSSZ' → epoch ms. */
function at(text: string): number {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(text);
  assert.ok(m);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}
function range(start: string | null, end: string | null): TimeRange {
  return { start: start === null ? null : at(start), end: end === null ? null : at(end) };
}
function comp(name: string, extra: Partial<CompFilter> = {}): CompFilter {
  return { name, isNotDefined: false, propFilters: [], compFilters: [], ...extra };
}
function cal(...compFilters: CompFilter[]): CompFilter {
  return comp('VCALENDAR', { compFilters });
}
function prop(name: string, extra: Partial<PropFilter> = {}): PropFilter {
  return { name, isNotDefined: false, paramFilters: [], ...extra };
}
function param(name: string, extra: Partial<ParamFilter> = {}): ParamFilter {
  return { name, isNotDefined: false, ...extra };
}
function text(value: string, collation: TextMatch['collation'] = 'i;ascii-casemap', negate = false): TextMatch {
  return { text: value, collation, negate, matchType: 'contains' };
}
function inRange(start: string | null, end: string | null, ...inner: Partial<CompFilter>[]): CompFilter {
  return cal(comp('VEVENT', { timeRange: range(start, end), ...Object.assign({}, ...inner) as Partial<CompFilter> }));
}

const meeting = load(
  'BEGIN:VEVENT',
  'UID:meeting',
  'DTSTAMP:20240101T000000Z',
  'DTSTART:20240110T100000Z',
  'DTEND:20240110T110000Z',
  'SUMMARY:Team Meeting \u2014 R\u00e9union',
  'CATEGORIES:Work,Planning',
  'ATTENDEE;PARTSTAT=ACCEPTED;CN=Alice:mailto:alice@example.com',
  'ATTENDEE;PARTSTAT=DECLINED;CN=Bob:mailto:bob@example.com',
  'BEGIN:VALARM',
  'ACTION:DISPLAY',
  'DESCRIPTION:Reminder',
  'TRIGGER:-PT15M',
  'END:VALARM',
  'END:VEVENT',
);

void describe('matchesFilter: comp-filter', () => {
  void it('matches the VCALENDAR root and nothing else', () => {
    assert.equal(matchesFilter(meeting, cal()), true);
    assert.equal(matchesFilter(meeting, comp('VCARD')), false);
    assert.equal(matchesFilter(meeting, comp('VCALENDAR', { isNotDefined: true })), false);
  });
  void it('tests that a component exists or does not', () => {
    assert.equal(matchesFilter(meeting, cal(comp('VEVENT'))), true);
    assert.equal(matchesFilter(meeting, cal(comp('vevent'))), true);
    assert.equal(matchesFilter(meeting, cal(comp('VTODO'))), false);
    assert.equal(matchesFilter(meeting, cal(comp('VTODO', { isNotDefined: true }))), true);
    assert.equal(matchesFilter(meeting, cal(comp('VEVENT', { isNotDefined: true }))), false);
  });
  void it('nests VCALENDAR / VEVENT / VALARM', () => {
    assert.equal(matchesFilter(meeting, cal(comp('VEVENT', { compFilters: [comp('VALARM')] }))), true);
    assert.equal(matchesFilter(meeting, cal(comp('VEVENT', { compFilters: [comp('VALARM', { isNotDefined: true })] }))), false);
    const alarmAction = (action: string): CompFilter => cal(comp('VEVENT', {
      compFilters: [comp('VALARM', { propFilters: [prop('ACTION', { textMatch: text(action) })] })],
    }));
    assert.equal(matchesFilter(meeting, alarmAction('display')), true);
    assert.equal(matchesFilter(meeting, alarmAction('email')), false);
  });
  void it('ANDs sibling comp-filters and prop-filters', () => {
    assert.equal(matchesFilter(meeting, cal(comp('VEVENT', { propFilters: [prop('SUMMARY'), prop('UID')] }))), true);
    assert.equal(matchesFilter(meeting, cal(comp('VEVENT', { propFilters: [prop('SUMMARY'), prop('LOCATION')] }))), false);
    assert.equal(matchesFilter(meeting, cal(comp('VEVENT'), comp('VTODO'))), false);
  });
  void it('applies a VEVENT time-range with an exclusive end', () => {
    assert.equal(matchesFilter(meeting, inRange('20240110T103000Z', '20240110T120000Z')), true);
    assert.equal(matchesFilter(meeting, inRange('20240110T110000Z', '20240110T120000Z')), false);
    assert.equal(matchesFilter(meeting, inRange('20240110T090000Z', '20240110T100000Z')), false);
    assert.equal(matchesFilter(meeting, inRange(null, '20240110T100001Z')), true);
    assert.equal(matchesFilter(meeting, inRange('20240110T105959Z', null)), true);
  });
});

void describe('matchesFilter: prop-filter and param-filter', () => {
  const onEvent = (...propFilters: PropFilter[]): CompFilter => cal(comp('VEVENT', { propFilters }));
  void it('tests that a property exists or does not', () => {
    assert.equal(matchesFilter(meeting, onEvent(prop('SUMMARY'))), true);
    assert.equal(matchesFilter(meeting, onEvent(prop('LOCATION'))), false);
    assert.equal(matchesFilter(meeting, onEvent(prop('LOCATION', { isNotDefined: true }))), true);
    assert.equal(matchesFilter(meeting, onEvent(prop('SUMMARY', { isNotDefined: true }))), false);
  });
  void it('text-matches under each collation, with negate', () => {
    assert.equal(matchesFilter(meeting, onEvent(prop('SUMMARY', { textMatch: text('team meeting') }))), true);
    assert.equal(matchesFilter(meeting, onEvent(prop('SUMMARY', { textMatch: text('team meeting', 'i;octet') }))), false);
    assert.equal(matchesFilter(meeting, onEvent(prop('SUMMARY', { textMatch: text('Team Meeting', 'i;octet') }))), true);
    assert.equal(matchesFilter(meeting, onEvent(prop('SUMMARY', { textMatch: text('R\u00c9UNION', 'i;ascii-casemap') }))), false);
    assert.equal(matchesFilter(meeting, onEvent(prop('SUMMARY', { textMatch: text('R\u00c9UNION', 'i;unicode-casemap') }))), true);
    assert.equal(matchesFilter(meeting, onEvent(prop('SUMMARY', { textMatch: text('lunch', 'i;ascii-casemap', true) }))), true);
    assert.equal(matchesFilter(meeting, onEvent(prop('SUMMARY', { textMatch: text('meeting', 'i;ascii-casemap', true) }))), false);
  });
  void it('matches any value of a multi-valued property', () => {
    assert.equal(matchesFilter(meeting, onEvent(prop('CATEGORIES', { textMatch: text('planning') }))), true);
    assert.equal(matchesFilter(meeting, onEvent(prop('CATEGORIES', { textMatch: text('home') }))), false);
    assert.equal(matchesFilter(meeting, onEvent(prop('CATEGORIES', { textMatch: text('work,planning') }))), false);
  });
  void it('matches non-text values in their iCalendar form', () => {
    assert.equal(matchesFilter(meeting, onEvent(prop('DTSTART', { textMatch: text('20240110T10') }))), true);
    assert.equal(matchesFilter(meeting, onEvent(prop('DTSTART', { textMatch: text('20240111') }))), false);
  });
  void it('evaluates param-filters on the same property as the text-match', () => {
    const attendee = (who: string, partstat: string): PropFilter =>
      prop('ATTENDEE', { textMatch: text(who), paramFilters: [param('PARTSTAT', { textMatch: text(partstat) })] });
    assert.equal(matchesFilter(meeting, onEvent(attendee('alice', 'accepted'))), true);
    assert.equal(matchesFilter(meeting, onEvent(attendee('bob', 'declined'))), true);
    assert.equal(matchesFilter(meeting, onEvent(attendee('alice', 'declined'))), false);
  });
  void it('tests that a parameter exists or does not', () => {
    assert.equal(matchesFilter(meeting, onEvent(prop('ATTENDEE', { paramFilters: [param('CN')] }))), true);
    assert.equal(matchesFilter(meeting, onEvent(prop('ATTENDEE', { paramFilters: [param('ROLE')] }))), false);
    assert.equal(matchesFilter(meeting, onEvent(prop('ATTENDEE', { paramFilters: [param('ROLE', { isNotDefined: true })] }))), true);
    assert.equal(matchesFilter(meeting, onEvent(prop('ATTENDEE', { paramFilters: [param('CN', { isNotDefined: true })] }))), false);
    assert.equal(matchesFilter(meeting, onEvent(prop('ATTENDEE', { paramFilters: [param('CN', { textMatch: text('carol') })] }))), false);
  });
  void it('applies a time-range to a property value', () => {
    assert.equal(matchesFilter(meeting, onEvent(prop('DTSTAMP', { timeRange: range('20240101T000000Z', '20240101T000001Z') }))), true);
    assert.equal(matchesFilter(meeting, onEvent(prop('DTSTAMP', { timeRange: range('20231231T000000Z', '20240101T000000Z') }))), false);
    assert.equal(matchesFilter(meeting, onEvent(prop('DTSTART', { timeRange: range('20240110T000000Z', null) }))), true);
    assert.equal(matchesFilter(meeting, onEvent(prop('LAST-MODIFIED', { timeRange: range(null, '20300101T000000Z') }))), false);
  });
});

const daily = [
  'BEGIN:VEVENT',
  'UID:daily',
  'DTSTAMP:20240101T000000Z',
  'DTSTART:20240101T100000Z',
  'DTEND:20240101T110000Z',
  'RRULE:FREQ=DAILY;COUNT=5',
  'SUMMARY:Standup',
  'BEGIN:VALARM',
  'ACTION:DISPLAY',
  'TRIGGER:-PT15M',
  'END:VALARM',
  'END:VEVENT',
];
const moved = [
  'BEGIN:VEVENT',
  'UID:daily',
  'DTSTAMP:20240101T000000Z',
  'RECURRENCE-ID:20240103T100000Z',
  'DTSTART:20240120T140000Z',
  'DTEND:20240120T150000Z',
  'SUMMARY:Moved standup',
  'END:VEVENT',
];

void describe('matchesFilter: recurrence', () => {
  const recurring = load(...daily, ...moved);
  void it('matches instances of the rule and stops at COUNT', () => {
    assert.equal(matchesFilter(recurring, inRange('20240105T103000Z', '20240105T104000Z')), true);
    assert.equal(matchesFilter(recurring, inRange('20240106T000000Z', '20240107T000000Z')), false);
  });
  void it('an override moved out of the range does not match; one moved into it does', () => {
    assert.equal(matchesFilter(recurring, inRange('20240103T000000Z', '20240104T000000Z')), false);
    assert.equal(matchesFilter(recurring, inRange('20240120T000000Z', '20240121T000000Z')), true);
  });
  void it('tests prop-filters on the component of the matching instance', () => {
    const moved = { propFilters: [prop('SUMMARY', { textMatch: text('moved') })] };
    assert.equal(matchesFilter(recurring, inRange('20240120T000000Z', '20240121T000000Z', moved)), true);
    assert.equal(matchesFilter(recurring, inRange('20240101T000000Z', '20240106T000000Z', moved)), false);
    // Without a time-range any component (here the override) may satisfy the prop-filter.
    assert.equal(matchesFilter(recurring, cal(comp('VEVENT', moved))), true);
  });
  void it('reads DTSTART and DTEND of the instance in a per-instance test', () => {
    const dtstartIn = (start: string, end: string): Partial<CompFilter> => ({ propFilters: [prop('DTSTART', { timeRange: range(start, end) })] });
    const dtendIn = (start: string, end: string): Partial<CompFilter> => ({ propFilters: [prop('DTEND', { timeRange: range(start, end) })] });
    assert.equal(matchesFilter(recurring, inRange('20240104T000000Z', '20240105T000000Z', dtstartIn('20240104T100000Z', '20240104T100001Z'))), true);
    assert.equal(matchesFilter(recurring, inRange('20240104T000000Z', '20240105T000000Z', dtstartIn('20240101T100000Z', '20240101T100001Z'))), false);
    assert.equal(matchesFilter(recurring, inRange('20240104T000000Z', '20240105T000000Z', dtendIn('20240104T110000Z', '20240104T110001Z'))), true);
    // Without a time-range on the VEVENT the stored value is tested.
    assert.equal(matchesFilter(recurring, cal(comp('VEVENT', dtstartIn('20240104T100000Z', '20240104T100001Z')))), false);
    assert.equal(matchesFilter(recurring, cal(comp('VEVENT', dtstartIn('20240101T100000Z', '20240101T100001Z')))), true);
  });
  void it('an EXDATE removing the only matching instance', () => {
    const withExdate = load(...daily.slice(0, 6), 'EXDATE:20240102T100000Z', ...daily.slice(6));
    assert.equal(matchesFilter(withExdate, inRange('20240102T000000Z', '20240103T000000Z')), false);
    assert.equal(matchesFilter(withExdate, inRange('20240102T000000Z', '20240103T100001Z')), true);
  });
  void it('is conservative when expansion is cut short', () => {
    const endless = load(
      'BEGIN:VEVENT', 'UID:endless', 'DTSTAMP:20240101T000000Z', 'DTSTART:20000101T100000Z', 'DTEND:20000101T110000Z',
      'RRULE:FREQ=MINUTELY', 'SUMMARY:Endless', 'END:VEVENT',
    );
    const options: QueryOptions = { maxInstances: 10 };
    assert.equal(matchesFilter(endless, inRange('20300101T000000Z', '20300102T000000Z'), options), true);
    const other = { propFilters: [prop('SUMMARY', { textMatch: text('other') })] };
    assert.equal(matchesFilter(endless, inRange('20300101T000000Z', '20300102T000000Z', other), options), false);
    const alarm = load(
      'BEGIN:VEVENT', 'UID:endless', 'DTSTAMP:20240101T000000Z', 'DTSTART:20000101T100000Z', 'DTEND:20000101T110000Z',
      'RRULE:FREQ=MINUTELY', 'BEGIN:VALARM', 'ACTION:DISPLAY', 'TRIGGER:-PT15M', 'END:VALARM', 'END:VEVENT',
    );
    const alarmIn2030 = cal(comp('VEVENT', { compFilters: [comp('VALARM', { timeRange: range('20300101T000000Z', '20300102T000000Z') })] }));
    assert.equal(matchesFilter(alarm, alarmIn2030, options), true);
  });
  void it('keeps an object whose expansion runs out of instances or time before the range, and drops it when it can tell', () => {
    // Walked from DTSTART (COUNT with BYDAY): Mondays and Wednesdays at 10:00 until about 2048.
    const counted = load(
      'BEGIN:VEVENT', 'UID:counted', 'DTSTAMP:20240101T000000Z', 'DTSTART:20000103T100000Z', 'DTEND:20000103T110000Z',
      'RRULE:FREQ=WEEKLY;COUNT=5000;BYDAY=MO,WE', 'END:VEVENT',
    );
    // 1 January 2030 is a Tuesday: no instance.
    const tuesday = inRange('20300101T000000Z', '20300102T000000Z');
    assert.equal(matchesFilter(counted, tuesday, { timeBudgetMs: 60_000 }), false);
    assert.equal(matchesFilter(counted, tuesday, { maxInstances: 10 }), true);
    assert.equal(matchesFilter(counted, tuesday, { timeBudgetMs: 0 }), true);
  });
});

void describe('matchesFilter: floating time', () => {
  const floating = load('BEGIN:VEVENT', 'UID:f', 'DTSTAMP:20240101T000000Z', 'DTSTART:20240110T100000', 'DTEND:20240110T110000', 'END:VEVENT');
  void it('reads floating times in the floating zone', () => {
    const newYork = resolveZone('America/New_York');
    assert.ok(newYork);
    const filter = inRange('20240110T143000Z', '20240110T153000Z');
    assert.equal(matchesFilter(floating, filter), false);
    assert.equal(matchesFilter(floating, filter, { floatingZone: newYork }), true);
  });
});

void describe('matchesFilter: VTODO', () => {
  const todo = (...lines: string[]): ICAL.Component => load('BEGIN:VTODO', 'UID:t', 'DTSTAMP:20240101T000000Z', ...lines, 'END:VTODO');
  const todoIn = (start: string, end: string): CompFilter => cal(comp('VTODO', { timeRange: range(start, end) }));
  void it('applies the §9.9 VTODO rules', () => {
    const startDue = todo('DTSTART:20240110T100000Z', 'DUE:20240112T100000Z');
    assert.equal(matchesFilter(startDue, todoIn('20240111T000000Z', '20240111T010000Z')), true);
    assert.equal(matchesFilter(startDue, todoIn('20240112T100000Z', '20240113T000000Z')), false);
    const dueOnly = todo('DUE:20240112T100000Z');
    assert.equal(matchesFilter(dueOnly, todoIn('20240112T000000Z', '20240112T100001Z')), true);
    assert.equal(matchesFilter(dueOnly, todoIn('20240113T000000Z', '20240114T000000Z')), false);
    const undated = todo('SUMMARY:Someday');
    assert.equal(matchesFilter(undated, todoIn('20000101T000000Z', '20000102T000000Z')), true);
    assert.equal(matchesFilter(undated, cal(comp('VEVENT', { timeRange: range('20000101T000000Z', '20000102T000000Z') }))), false);
  });
  void it('applies a time-range to COMPLETED', () => {
    const done = todo('DUE:20240112T100000Z', 'COMPLETED:20240111T093000Z', 'STATUS:COMPLETED');
    const completedIn = (start: string, end: string): CompFilter =>
      cal(comp('VTODO', { propFilters: [prop('COMPLETED', { timeRange: range(start, end) })] }));
    assert.equal(matchesFilter(done, completedIn('20240111T000000Z', '20240112T000000Z')), true);
    assert.equal(matchesFilter(done, completedIn('20240112T000000Z', '20240113T000000Z')), false);
    assert.equal(matchesFilter(todo('DUE:20240112T100000Z'), completedIn('20240111T000000Z', '20240112T000000Z')), false);
  });
});

void describe('matchesFilter: VALARM time-range', () => {
  const alarmIn = (start: string, end: string, parent: Partial<CompFilter> = {}): CompFilter =>
    cal(comp('VEVENT', { ...parent, compFilters: [comp('VALARM', { timeRange: range(start, end) })] }));
  void it('takes a relative trigger from the event start', () => {
    assert.equal(matchesFilter(meeting, alarmIn('20240110T094000Z', '20240110T095000Z')), true);
    assert.equal(matchesFilter(meeting, alarmIn('20240110T094500Z', '20240110T094501Z')), true);
    assert.equal(matchesFilter(meeting, alarmIn('20240110T095000Z', '20240110T110000Z')), false);
    assert.equal(matchesFilter(meeting, alarmIn('20240110T093000Z', '20240110T094500Z')), false);
  });
  void it('takes RELATED=END from the event end', () => {
    const related = load('BEGIN:VEVENT', 'UID:r', 'DTSTAMP:20240101T000000Z', 'DTSTART:20240110T100000Z', 'DURATION:PT1H',
      'BEGIN:VALARM', 'ACTION:DISPLAY', 'TRIGGER;RELATED=END:PT5M', 'END:VALARM', 'END:VEVENT');
    assert.equal(matchesFilter(related, alarmIn('20240110T110000Z', '20240110T111000Z')), true);
    assert.equal(matchesFilter(related, alarmIn('20240110T095000Z', '20240110T110000Z')), false);
  });
  void it('uses an absolute trigger as is', () => {
    const absolute = load('BEGIN:VEVENT', 'UID:a', 'DTSTAMP:20240101T000000Z', 'DTSTART:20240110T100000Z', 'DTEND:20240110T110000Z',
      'BEGIN:VALARM', 'ACTION:DISPLAY', 'TRIGGER;VALUE=DATE-TIME:20240109T080000Z', 'END:VALARM', 'END:VEVENT');
    assert.equal(matchesFilter(absolute, alarmIn('20240109T000000Z', '20240110T000000Z')), true);
    assert.equal(matchesFilter(absolute, alarmIn('20240110T000000Z', '20240111T000000Z')), false);
  });
  void it('counts every repetition', () => {
    const repeating = load('BEGIN:VEVENT', 'UID:p', 'DTSTAMP:20240101T000000Z', 'DTSTART:20240110T100000Z', 'DTEND:20240110T110000Z',
      'BEGIN:VALARM', 'ACTION:DISPLAY', 'TRIGGER:-PT15M', 'REPEAT:2', 'DURATION:PT5M', 'END:VALARM', 'END:VEVENT');
    assert.equal(matchesFilter(repeating, alarmIn('20240110T095400Z', '20240110T095600Z')), true);
    assert.equal(matchesFilter(repeating, alarmIn('20240110T095100Z', '20240110T095400Z')), false);
    assert.equal(matchesFilter(repeating, alarmIn('20240110T095600Z', '20240110T100000Z')), false);
  });
  void it('fires for each instance of a recurring parent', () => {
    const recurring = load(...daily);
    assert.equal(matchesFilter(recurring, alarmIn('20240104T094000Z', '20240104T095000Z')), true);
    assert.equal(matchesFilter(recurring, alarmIn('20240106T094000Z', '20240106T095000Z')), false);
    // With a time-range on the event too, the alarm must belong to an instance in that range.
    const jan3 = { timeRange: range('20240103T000000Z', '20240104T000000Z') };
    assert.equal(matchesFilter(recurring, alarmIn('20240103T094000Z', '20240103T095000Z', jan3)), true);
    assert.equal(matchesFilter(recurring, alarmIn('20240104T094000Z', '20240104T095000Z', jan3)), false);
  });
});

void describe('matchesFilter: VFREEBUSY time-range', () => {
  const fbIn = (start: string, end: string): CompFilter => cal(comp('VFREEBUSY', { timeRange: range(start, end) }));
  void it('uses DTSTART/DTEND when both are present', () => {
    const bounded = load('BEGIN:VFREEBUSY', 'UID:fb', 'DTSTAMP:20240101T000000Z', 'DTSTART:20240110T000000Z', 'DTEND:20240111T000000Z',
      'FREEBUSY:20240110T100000Z/PT1H', 'END:VFREEBUSY');
    assert.equal(matchesFilter(bounded, fbIn('20240110T200000Z', '20240110T210000Z')), true);
    // (start <= DTEND): a range starting exactly at DTEND still overlaps.
    assert.equal(matchesFilter(bounded, fbIn('20240111T000000Z', '20240112T000000Z')), true);
    assert.equal(matchesFilter(bounded, fbIn('20240109T000000Z', '20240110T000000Z')), false);
  });
  void it('falls back to the FREEBUSY periods, then to no match', () => {
    const periods = load('BEGIN:VFREEBUSY', 'UID:fb', 'DTSTAMP:20240101T000000Z',
      'FREEBUSY;FBTYPE=FREE:20240110T100000Z/PT1H,20240112T100000Z/20240112T120000Z', 'END:VFREEBUSY');
    assert.equal(matchesFilter(periods, fbIn('20240112T110000Z', '20240112T113000Z')), true);
    assert.equal(matchesFilter(periods, fbIn('20240110T110000Z', '20240112T100000Z')), false);
    const empty = load('BEGIN:VFREEBUSY', 'UID:fb', 'DTSTAMP:20240101T000000Z', 'END:VFREEBUSY');
    assert.equal(matchesFilter(empty, fbIn('20000101T000000Z', '20300101T000000Z')), false);
  });
});
