// `node bench/hostile-rules.ts`: how long one REPORT holds the event loop when a calendar is full of
// hostile recurrence rules (sub-daily rules since 1970, BYSETPOS rules ical.js must walk, COUNT rules
// counted from DTSTART). In process, so the time of a request is the time nothing else runs. Bounded:
// a fixed number of objects and requests. Imports the in-process test harness, nothing else of tests.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Harness } from '../test/support/harness.ts';

const SHAPES: Readonly<Record<string, readonly string[]>> = {
  'secondly-1970': ['DTSTART:19700101T000000Z', 'RRULE:FREQ=SECONDLY'],
  'secondly-3am-1970': ['DTSTART:19700101T000000Z', 'RRULE:FREQ=SECONDLY;BYHOUR=3'],
  'minutely-count-1970': ['DTSTART:19700101T000000Z', 'RRULE:FREQ=MINUTELY;COUNT=100000000;BYSECOND=0,30'],
  'bysetpos-secondly-1970': ['DTSTART:19700101T000000Z', 'RRULE:FREQ=SECONDLY;BYSETPOS=1;BYHOUR=3'],
  'berlin-hourly-1970': ['DTSTART;TZID=Europe/Berlin:19700101T000000', 'DURATION:PT30M', 'RRULE:FREQ=HOURLY;BYMINUTE=0,15,30,45'],
};

const NS = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"';

function eventBody(uid: string, lines: readonly string[]): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//bench//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', ...lines, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
}

function query(start: string, end: string, expand: boolean): string {
  const data = expand ? `<C:calendar-data><C:expand start="${start}" end="${end}"/></C:calendar-data>` : '';
  return `<?xml version="1.0"?><C:calendar-query ${NS}><D:prop><D:getetag/>${data}</D:prop>`
    + `<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="${start}" end="${end}"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { objects: { type: 'string', default: '100' }, repeat: { type: 'string', default: '3' } } });
  const objects = Math.min(1000, Number(values.objects));
  const repeat = Math.min(10, Number(values.repeat));
  const h = await Harness.start(['bench']);
  try {
    for (const [shape, lines] of Object.entries(SHAPES)) {
      const calendar = `/calendars/bench/${shape}/`;
      const made = await h.send('MKCALENDAR', calendar);
      if (made.status !== 201) throw new Error(`MKCALENDAR ${made.status}`);
      for (let n = 0; n < objects; n++) {
        const put = await h.send('PUT', `${calendar}${n}.ics`, { headers: { 'content-type': 'text/calendar' }, body: eventBody(`${shape}-${n}`, lines) });
        if (put.status !== 201) throw new Error(`PUT ${shape} ${put.status}: ${put.text}`);
      }
      const cases: [string, string, string, boolean][] = [
        ['10 s, filter', '20300601T030000Z', '20300601T030010Z', false],
        ['10 s, expand', '20300601T030000Z', '20300601T030010Z', true],
        ['1 month, filter', '20300601T000000Z', '20300701T000000Z', false],
        ['1 month, expand', '20300601T000000Z', '20300701T000000Z', true],
      ];
      for (const [label, start, end, expand] of cases) {
        const times: number[] = [];
        let status = 0;
        let matched = 0;
        for (let r = 0; r < repeat; r++) {
          const began = performance.now();
          const answer = await h.send('REPORT', calendar, { headers: { depth: '1', 'content-type': 'application/xml' }, body: query(start, end, expand) });
          times.push(performance.now() - began);
          status = answer.status;
          matched = (answer.text.match(/<(?:[A-Za-z]+:)?response[ >]/gu) ?? []).length;
        }
        const best = Math.min(...times);
        process.stdout.write(`${JSON.stringify({ shape, objects, case: label, status, responses: matched, bestMs: Math.round(best), worstMs: Math.round(Math.max(...times)) })}\n`);
      }
    }
  } finally {
    await h.close();
  }
}

await main();
