// The real-world corpus (test/fixtures/corpus, see its README for sources and licences) through
// validateCalendarObject: every file's outcome is pinned in the tables below, so a change of
// behaviour shows up here. Accepted files are also expanded and checked against their index bounds.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { objectBounds } from './bounds.ts';
import { expandOccurrences } from './occurrences.ts';
import { decodeCalendarBytes, parseCalendar } from './parse.ts';
import { validateCalendarObject } from './validate.ts';
import { InvalidCalendarObject } from './types.ts';
import type { CalendarPrecondition } from './types.ts';

const CORPUS = new URL('../../test/fixtures/corpus/', import.meta.url);

interface Refusal {
  readonly precondition: CalendarPrecondition;
  readonly message: RegExp;
  /** Why, in the words of the corpus README where it has some. */
  readonly why: string;
}
type Expected = 'accept' | Refusal;

const data = (message: RegExp, why: string): Refusal => ({ precondition: 'valid-calendar-data', message, why });
const resource = (message: RegExp, why: string): Refusal => ({ precondition: 'valid-calendar-object-resource', message, why });

const NO_VERSION = /^VCALENDAR has no VERSION property; RFC 5545 §3\.7\.4 requires VERSION:2\.0\.$/;
const method = (name: string): RegExp => new RegExp(`^METHOD:${name} is an iTIP method; a stored calendar object must not have a METHOD property`);
const SEVERAL_UIDS = /^All components of a calendar object resource share one UID; found "/;
const roots = (count: number, names: string): RegExp => new RegExp(`^The calendar data holds ${count} root components \\(${names}[,)]`);
const root = (name: string): RegExp => new RegExp(`^The root component is ${name}, not VCALENDAR\\.$`);
const NO_COMPONENT = /^The object has no VEVENT, VTODO, VJOURNAL, VFREEBUSY or VAVAILABILITY component\.$/;
const UNCLOSED = /^The calendar data is not valid iCalendar: invalid ical body\. component began but did not end$/;

const EXPORT = 'a calendar export (several objects), not one resource';
const ITIP = 'an iTIP message or PUBLISH export; METHOD is not allowed in a stored object';
const FRAGMENT = 'a test fragment without VERSION:2.0';

/** broken/: refused unless the README says a server may accept (as noted). */
const BROKEN: Readonly<Record<string, Expected>> = {
  'ical4j__13-MoonPhase.ics': data(UNCLOSED, 'truncated file'),
  'ical4j__bhav23-2.ics': data(/^The calendar data is not valid iCalendar: invalid line \(no token ";" or ":"\) "3\.110/, 'continuation lines ical.js cannot unfold; strict refusal'),
  'ical4j__boeing.ics': data(/^DTSTAMP of VFREEBUSY: "2006717TT80000Z" is not a valid DATE-TIME\.$/, '7-digit dates'),
  'ical4j__groupwise.ics': 'accept', // README: accept or refuse; a CAL-ADDRESS with a space does not affect any time computation, stored as sent
  'ical4j__invalid-0.ics': data(NO_VERSION, 'no VERSION, no UID, no DTSTART'),
  'ical4j__korganizer-lowercase.ics': 'accept', // README: ACCEPT, names are case-insensitive
  'ical4j__overlaps.ics': data(roots(5, 'VEVENT'), 'bare VEVENTs without VCALENDAR'),
  'ical4j__schedule-unstable.ics': resource(SEVERAL_UIDS, `${EXPORT} (its DATE-in-DATE-TIME values and Olson TZIDs are read leniently)`),
  'ical4j__smallcluster.ics': data(NO_VERSION, 'nested VCALENDAR, bad UNTIL; first problem found: no VERSION'),
  'ical4j__sogo-geo-escaped-semicolon.ics': 'accept', // README: accept or refuse; GEO is not interpreted, stored as sent
  'ical4j__talios.ics': 'accept', // README: may map the Olson suffix; /softwarestudio.org/.../Pacific/Auckland resolves to Pacific/Auckland
  'ical4j__tmeher.ics': resource(method('REQUEST'), ITIP),
  'icalendar__big_bad_calendar.ics': data(UNCLOSED, 'unbalanced components'),
  'icalendar__broken_dtstart.ics': data(/^DTSTART of VEVENT has a value that cannot be read: invalid date-time value/, 'DTSTART:INVALID-DATE'),
  'icalendar__broken_ical.ics': data(NO_VERSION, 'empty parameter, no VERSION'),
  'icalendar__empty_RDATE.ics': resource(method('PUBLISH'), `${ITIP}; without it: DAYLIGHT directly in VCALENDAR`),
  'icalendar__fuzz_testcase_0_char_in_component_name.ics': data(/^Line 1 contains the control character U\+0000/, 'fuzzer output'),
  'icalendar__fuzz_testcase_vtimezone_lone_cr.ics': data(/^Line 2 contains the control character U\+000C/, 'fuzzer output'),
  'icalendar__invalid_duration.ics': data(/^DURATION of VEVENT: "P999999999999999999W" is not a valid DURATION \(or is out of range\)\.$/, 'overflowing DURATION'),
  'icalendar__issue_104_broken_calendar.ics': data(/^The calendar data is not valid iCalendar: invalid line .*"X" \(line 13\)$/, 'stray line "X"'),
  'icalendar__issue_1081_invalid_rrule_freq.ics': data(/invalid frequency "INVALID_TYPE_CAUSES_ERROR".*\(line 7\)$/, 'invalid FREQ'),
  'icalendar__issue_178_component_with_invalid_name_represented.ics': data(root('MYCOMP'), 'root is not VCALENDAR'),
  'icalendar__issue_218_bad_tzid.ics': 'accept', // README: accept; its VTIMEZONE with a DATE DTSTART still defines +11:00
  'icalendar__parsing_error.ics': resource(method('PUBLISH'), `${ITIP}; without it: empty EXDATE value`),
  'icalendar__parsing_error_in_UTC_offset.ics': data(NO_VERSION, 'no VERSION; its +5744 offset is refused too'),
  'icalendar__small_bad_calendar.ics': data(UNCLOSED, 'VCALENDAR never closed'),
  'icaljs__blank_line_end.ics': data(NO_VERSION, 'blank lines are tolerated (see below); the file has no VERSION and no component'),
  'icaljs__blank_line_mid.ics': data(NO_VERSION, 'blank lines are tolerated (see below); the file has no VERSION and no component'),
  'icaljs__newline_junk.ics': data(NO_VERSION, 'blank lines are tolerated (see below); the file has no VERSION and no component'),
  'libical__crash.ics': data(/^The calendar data is not valid UTF-8 text \(line 2\)/, 'fuzzed 8-bit garbage'),
  'libical__issue250.ics': data(/^The calendar data is not valid iCalendar: Invalid parameters in 'BEGIN;/, 'fuzzer output'),
  'libical__issue251.ics': data(/^Line 12 contains the control character U\+0014/, 'fuzzer output'),
  'libical__large.ics': data(roots(2316, 'VCALENDAR'), 'concatenated RFC examples'),
  'libical__recur-errors.ics': data(roots(4, 'VEVENT'), 'bare VEVENTs'),
  'libical__test-data-8.ics': data(root('VEVENT'), 'bare VEVENT'),
  'py-vobject__badline.ics': resource(method('PUBLISH'), `${ITIP}; without it accepted (ical.js reads the odd property names)`),
  'py-vobject__badstream.ics': resource(method('PUBLISH'), `${ITIP}; without it: unreadable TRIGGER`),
};

/** ical/: real files; those refused are mostly exports of several objects or iTIP messages. */
const ICAL: Readonly<Record<string, Expected>> = {
  'comm-central__import.ics': resource(/^VEVENT has no UID\.$/, 'import file without UIDs'),
  'comm-central__importLatin1.ics': data(/^The calendar data is not valid UTF-8 text \(line 20\)/, 'Latin-1'),
  'ical4j__EXDATE-IN-UTC.ics': 'accept',
  'ical4j__EXDATE.ics': resource(method('PUBLISH'), `${ITIP}; accepted without it`),
  'ical4j__Misc.History.ics': resource(method('PUBLISH'), EXPORT),
  'ical4j__TZ-set-to-utc.txt': resource(method('PUBLISH'), EXPORT),
  'ical4j__apple-iphone-os-26-structured-location.ics': 'accept',
  'ical4j__apple.txt': resource(SEVERAL_UIDS, EXPORT),
  'ical4j__blankTzid.ics': resource(method('PUBLISH'), `${ITIP}; without it: its VTIMEZONE has an empty TZID`),
  'ical4j__calconnect.ics': resource(method('REQUEST'), `${ITIP}; accepted without it`),
  'ical4j__custom_component.ics': resource(NO_COMPONENT, 'only an X-VVENUE component'),
  'ical4j__dst-only-vtimezone.ics': 'accept',
  'ical4j__google_aus_holidays.ics': resource(method('PUBLISH'), EXPORT),
  'ical4j__incoming.ics': data(roots(9, 'VCALENDAR'), 'a stream of iTIP messages'),
  'ical4j__japan_west.ics': resource(method('PUBLISH'), EXPORT),
  'ical4j__korganizer_sample.ics': resource(SEVERAL_UIDS, EXPORT),
  'ical4j__maritz.ics': 'accept',
  'ical4j__mathBirthdays.ics': resource(SEVERAL_UIDS, EXPORT),
  'ical4j__multiple_calendars.ics': data(roots(2, 'VCALENDAR'), 'two VCALENDARs'),
  'ical4j__oracle-personal-notes-test.ics': 'accept',
  'ical4j__outlook1.txt': resource(method('REQUEST'), `${ITIP}; accepted without it (Windows TZID)`),
  'ical4j__outlook2.txt': resource(SEVERAL_UIDS, EXPORT),
  'ical4j__sunbird_sample.ics': resource(/mixes VEVENT and VTODO \(RFC 4791 §4\.1\)\.$/, EXPORT),
  'ical4j__yahoo1.txt': resource(method('REQUEST'), `${ITIP}; accepted without it`),
  'ical4j__zidestoreical4jbomb.ics': resource(method('REQUEST'), `${ITIP}; accepted without it`),
  'icalendar__alarm_google_future.ics': resource(method('PUBLISH'), `${ITIP}; accepted without it`),
  'icalendar__alarm_thunderbird_snoozed_until_1457.ics': 'accept',
  'icalendar__america_new_york_forward_reference.ics': data(NO_VERSION, FRAGMENT),
  'icalendar__bom_calendar.ics': data(NO_VERSION, `${FRAGMENT}; the BOM itself is stripped`),
  'icalendar__calendar_with_unicode.ics': resource(NO_COMPONENT, 'an empty calendar'),
  'icalendar__example.ics': resource(method('PUBLISH'), EXPORT),
  'icalendar__freebusy-example.ics': data(root('VFREEBUSY'), 'bare VFREEBUSY'),
  'icalendar__issue_101_icalendar_chokes_on_umlauts_in_organizer.ics': data(root('VEVENT'), 'bare VEVENT'),
  'icalendar__issue_1050_all_components.ics': resource(/mixes VEVENT and VTODO and VJOURNAL and VAVAILABILITY/, 'several component types'),
  'icalendar__issue_1081_freebusy_comma_separated.ics': 'accept',
  'icalendar__issue_1549_binary_attachment.ics': data(/^VEVENT has no DTSTART \(RFC 5545 §3\.6\.1\)\.$/, 'VEVENT without DTSTART'),
  'icalendar__issue_156_RDATE_with_PERIOD_TZID_khal_2.ics': 'accept',
  'icalendar__issue_237_fail_to_parse_timezone_with_non_ascii_tzid.ics': data(NO_VERSION, FRAGMENT),
  'icalendar__issue_27_multiple_periods_in_freebusy_multiple_freebusies.ics': resource(method('REPLY'), `${ITIP}; accepted without it`),
  'icalendar__issue_313_globally_unique_tzid.ics': resource(SEVERAL_UIDS, `${EXPORT}; its Olson-style TZIDs resolve`),
  'icalendar__issue_351_whitespace_in_property_and_params.ics': 'accept',
  'icalendar__issue_55_parse_error_on_utc_offset_with_seconds.ics': data(root('VTIMEZONE'), 'bare VTIMEZONE'),
  'icalendar__issue_722_missing_VTIMEZONE_custom.ics': data(NO_VERSION, `${FRAGMENT}; its TZID=CUSTOM_tzid would be refused too`),
  'icalendar__issue_722_timezone_transition_ambiguity.ics': data(NO_VERSION, FRAGMENT),
  'icalendar__multiple_timezones.ics': data(/^RDATE of VEVENT has a value that cannot be read/, 'RDATE;VALUE=TIME is not an RDATE type'),
  'icalendar__pacific_fiji.ics': data(/^VEVENT has more than one DTSTART\.$/, 'two DTSTARTs'),
  'icalendar__period_with_timezone.ics': 'accept',
  'icalendar__rfc_5545_RDATE_example.ics': data(NO_VERSION, FRAGMENT),
  'icalendar__rfc_6868.ics': data(NO_VERSION, FRAGMENT),
  'icalendar__rfc_7529.ics': data(/^The calendar data is not valid iCalendar: BYMONTH: invalid value "13"/, 'RFC 7529 RSCALE rules are not supported'),
  'icalendar__rfc_7953_3.ics': data(NO_VERSION, FRAGMENT),
  'icalendar__rfc_7986_conferences.ics': data(NO_VERSION, FRAGMENT),
  'icalendar__rfc_9074_example_4.ics': data(root('VEVENT'), 'bare VEVENT'),
  'icalendar__rfc_9253_examples.ics': resource(SEVERAL_UIDS, EXPORT),
  'icalendar__x_location.ics': resource(method('PUBLISH'), `${ITIP}; accepted without it`),
  'icaljs__Atikokan.ics': resource(NO_COMPONENT, 'only a VTIMEZONE'),
  'icaljs__RDATE_test.ics': resource(NO_COMPONENT, 'only a VTIMEZONE'),
  'icaljs__RRULE_UNTIL_test.ics': resource(NO_COMPONENT, 'only a VTIMEZONE'),
  'icaljs__daily_recur.ics': 'accept',
  'icaljs__duration_instead_of_dtend.ics': 'accept',
  'icaljs__google_birthday.ics': resource(SEVERAL_UIDS, EXPORT),
  'icaljs__multiple_root_components.ics': data(roots(2, 'VCALENDAR'), 'two VCALENDARs'),
  'icaljs__multiple_rrules.ics': 'accept',
  'icaljs__only_dtstart_date.ics': 'accept',
  'icaljs__parserv2.ics': 'accept',
  'icaljs__property_params.ics': data(NO_VERSION, FRAGMENT),
  'icaljs__rdate_exdate.ics': data(NO_VERSION, FRAGMENT),
  'icaljs__recur_instances.ics': data(/^A VTIMEZONE has no TZID\.$/, 'a VTIMEZONE without TZID (ical.js would crash looking zones up)'),
  'icaljs__recur_instances_finite.ics': 'accept',
  'icaljs__timezone_from_file.ics': resource(/^VEVENT has no UID\.$/, 'no UID'),
  'icaljs__tzid_with_gmt.ics': data(NO_VERSION, `${FRAGMENT}; "(GMT +01:00)" names no zone either`),
  'icaljs__unfold_properties.ics': data(NO_VERSION, FRAGMENT),
  'icaljs__utc_negative_zero.ics': 'accept',
  'libical__calendar.ics': data(roots(3, 'VCALENDAR'), 'several VCALENDARs'),
  'libical__classify.ics': data(roots(2, 'VCALENDAR'), 'several VCALENDARs'),
  'libical__icalrecur_test.txt': data(/^The calendar data is not valid iCalendar: invalid line .*\(line 2\)$/, 'a recurrence oracle, not iCalendar'),
  'libical__icalrecur_test_rscale.txt': data(/^The calendar data is not valid iCalendar: invalid line .*\(line 2\)$/, 'a recurrence oracle, not iCalendar'),
  'libical__incoming.ics': data(roots(15, 'VCALENDAR'), 'a stream of iTIP messages'),
  'libical__process-incoming.ics': data(roots(3, 'VCALENDAR'), 'several VCALENDARs'),
  'libical__recur.txt': data(/^The calendar data is not valid iCalendar: Invalid parameters in ';BEGIN:VEVENT' \(line 645\)$/, 'a recurrence oracle'),
  'libical__restriction.ics': data(roots(3, 'VCALENDAR'), 'several VCALENDARs'),
  'libical__test-data-1.ics': data(/^DAYLIGHT of VTIMEZONE "US-Eastern" has no DTSTART\.$/, 'incomplete RFC 2445 example zone'),
  'libical__test-data-2.ics': resource(method('xyz'), `${ITIP}; without it: DTSTAMP 19970324T1200Z lacks seconds`),
  'libical__test-data-2445.ics': data(roots(22, 'VCALENDAR'), 'all RFC 2445 examples'),
  'libical__test-data-2446.ics': data(roots(53, 'VCALENDAR'), 'all RFC 2446 examples'),
  'libical__user-cal.vcf': data(/^VERSION must be 2\.0 \(RFC 5545 §3\.7\.4\), not "1\.1\.4"\.$/, 'GnomeCalendar pre-standard VERSION'),
  'py-vobject__availablity.ics': data(root('VAVAILABILITY'), 'bare VAVAILABILITY'),
  'py-vobject__freebusy.ics': data(root('VFREEBUSY'), 'bare VFREEBUSY'),
  'py-vobject__journal.ics': data(root('VJOURNAL'), 'bare VJOURNAL'),
  'py-vobject__ms_tzid.ics': 'accept',
  'py-vobject__recurrence-without-tz.ics': resource(/^VEVENT has no UID\.$/, 'no UID'),
  'py-vobject__recurrence.ics': 'accept',
  'py-vobject__ruby_rrule.ics': data(/invalid frequency "DAILY\\"/, 'RRULE with an escaped semicolon'),
  'py-vobject__tzid_8bit.ics': 'accept',
  'py-vobject__utf8_test.ics': resource(method('PUBLISH'), `${ITIP}; accepted without it`),
  'sabre-vobject__UntilRespectsTimezoneTest.ics': resource(method('PUBLISH'), `${ITIP}; accepted without it`),
};

/** What the files refused for METHOD alone do once METHOD is removed (a client stripping it). */
const WITHOUT_METHOD_ACCEPTED: readonly string[] = [
  'broken/ical4j__tmeher.ics', 'broken/py-vobject__badline.ics', 'ical/ical4j__EXDATE.ics', 'ical/ical4j__calconnect.ics',
  'ical/ical4j__outlook1.txt', 'ical/ical4j__yahoo1.txt', 'ical/ical4j__zidestoreical4jbomb.ics', 'ical/icalendar__alarm_google_future.ics',
  'ical/icalendar__issue_27_multiple_periods_in_freebusy_multiple_freebusies.ics', 'ical/icalendar__x_location.ics',
  'ical/py-vobject__utf8_test.ics', 'ical/sabre-vobject__UntilRespectsTimezoneTest.ics',
];

function outcome(path: string, transform: (text: string) => string = (t) => t): { accepted: true } | { accepted: false; error: InvalidCalendarObject } {
  try {
    validateCalendarObject(transform(decodeCalendarBytes(readFileSync(new URL(path, CORPUS)))));
    return { accepted: true };
  } catch (error) {
    assert.ok(error instanceof InvalidCalendarObject, `${path} threw ${String(error)}`);
    return { accepted: false, error };
  }
}

function checkFolder(folder: string, table: Readonly<Record<string, Expected>>): void {
  const files = readdirSync(new URL(folder, CORPUS)).filter((name) => !name.startsWith('.')).sort();
  assert.deepEqual(files, Object.keys(table).sort(), 'the table lists every file of the folder');
  for (const file of files) {
    const expected = table[file];
    const result = outcome(`${folder}${file}`);
    if (expected === 'accept') {
      assert.ok(result.accepted, `${file} should be accepted: ${result.accepted ? '' : result.error.message}`);
    } else {
      assert.ok(!result.accepted, `${file} should be refused (${expected?.why ?? ''})`);
      assert.equal(result.error.precondition, expected?.precondition, file);
      assert.match(result.error.message, expected?.message ?? /^$/, file);
    }
  }
}

void describe('corpus', () => {
  void it('broken/: every file is refused with InvalidCalendarObject, except those the README lets a server accept', () => {
    checkFolder('broken/', BROKEN);
  });

  void it('ical/: every file validates or is refused as the table says, with a readable message', () => {
    checkFolder('ical/', ICAL);
    for (const [file, expected] of Object.entries(ICAL)) {
      if (expected !== 'accept') assert.match(expected.why, /\w/, file);
    }
  });

  void it('files refused for METHOD alone are accepted once it is removed', () => {
    const stripMethod = (text: string): string => text.replace(/^METHOD:[^\r\n]*\r?\n/gm, '');
    for (const path of WITHOUT_METHOD_ACCEPTED) {
      const result = outcome(path, stripMethod);
      assert.ok(result.accepted, `${path}: ${result.accepted ? '' : result.error.message}`);
    }
  });

  void it('blank lines before, inside and after the VCALENDAR are tolerated by the parser', () => {
    for (const file of ['icaljs__blank_line_end.ics', 'icaljs__blank_line_mid.ics', 'icaljs__newline_junk.ics']) {
      assert.equal(parseCalendar(readFileSync(new URL(`broken/${file}`, CORPUS), 'utf8')).name, 'vcalendar', file);
    }
  });

  void it('accepted files expand without error, every instance inside the index bounds', () => {
    const accepted = [
      ...Object.entries(BROKEN).filter(([, e]) => e === 'accept').map(([f]) => `broken/${f}`),
      ...Object.entries(ICAL).filter(([, e]) => e === 'accept').map(([f]) => `ical/${f}`),
    ];
    assert.equal(accepted.length, 25);
    for (const path of accepted) {
      const { vcalendar, info } = validateCalendarObject(decodeCalendarBytes(readFileSync(new URL(path, CORPUS))));
      assert.deepEqual(objectBounds(vcalendar), { firstStart: info.firstStart, lastEnd: info.lastEnd }, path);
      const { occurrences } = expandOccurrences(vcalendar, { start: null, end: null }, { maxInstances: 500 });
      assert.ok(occurrences.length > 0, `${path} has instances`);
      for (const occurrence of occurrences) {
        assert.ok(info.firstStart === null || info.firstStart <= occurrence.startMs, `${path}: instance before firstStart`);
        assert.ok(info.lastEnd === null || occurrence.endMs <= info.lastEnd, `${path}: instance after lastEnd`);
      }
    }
  });
});
