// khal and todoman (Debian packages) read what the server serves: the calendars are downloaded into
// a vdir with the python `caldav` library, then both programs list events and tasks from it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { interopRequired, startServerProcess, type ServerProcess } from '../support/server-process.ts';

// Debian's python, where python3-caldav is installed (another python3 may come first on PATH).
const PYTHON = '/usr/bin/python3';
const hasCaldav = spawnSync(PYTHON, ['-c', 'import caldav']).status === 0;
const hasKhal = spawnSync('khal', ['--version']).status === 0;
const hasTodoman = spawnSync('todoman', ['--version']).status === 0;
const SCRIPT = fileURLToPath(new URL('./khal_todoman_vdir.py', import.meta.url));
const USER = { name: 'erin', password: 'erin-secret' };
const AUTH = `Basic ${Buffer.from(`${USER.name}:${USER.password}`).toString('base64')}`;

function skipUnless(installed: boolean, what: string): string | false {
  return !installed && !interopRequired() ? `${what} is not installed (apt-get install ${what})` : false;
}

function run(command: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000, env: { ...process.env, TZ: 'UTC' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const crlf = (text: string): string => `${text.trim().split('\n').join('\r\n')}\r\n`;

const BERLIN = `BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE`;

const vcalendar = (body: string): string => crlf(`BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Almanac interop//khal-todoman//EN\n${body}\nEND:VCALENDAR`);

const EVENTS: Record<string, string> = {
  'plain.ics': vcalendar(`BEGIN:VEVENT
UID:plain@almanac.test
DTSTAMP:20300101T000000Z
DTSTART:20300304T100000Z
DTEND:20300304T110000Z
SUMMARY:Plain meeting
END:VEVENT`),
  'holiday.ics': vcalendar(`BEGIN:VEVENT
UID:holiday@almanac.test
DTSTAMP:20300101T000000Z
DTSTART;VALUE=DATE:20300306
DTEND;VALUE=DATE:20300307
SUMMARY:Holiday
END:VEVENT`),
  // Mondays 09:00 Berlin time across the DST change of 2030-03-31: one EXDATE, one moved instance.
  'standup.ics': vcalendar(`${BERLIN}
BEGIN:VEVENT
UID:standup@almanac.test
DTSTAMP:20300101T000000Z
DTSTART;TZID=Europe/Berlin:20300318T090000
DTEND;TZID=Europe/Berlin:20300318T093000
RRULE:FREQ=WEEKLY;COUNT=4
EXDATE;TZID=Europe/Berlin:20300325T090000
SUMMARY:Team standup
END:VEVENT
BEGIN:VEVENT
UID:standup@almanac.test
DTSTAMP:20300101T000000Z
RECURRENCE-ID;TZID=Europe/Berlin:20300401T090000
DTSTART;TZID=Europe/Berlin:20300402T110000
DTEND;TZID=Europe/Berlin:20300402T113000
SUMMARY:Team standup (moved)
END:VEVENT`),
};

const TODOS: Record<string, string> = {
  'report.ics': vcalendar(`BEGIN:VTODO
UID:report@almanac.test
DTSTAMP:20300101T000000Z
DUE:20300310T170000Z
STATUS:NEEDS-ACTION
PRIORITY:1
SUMMARY:Write report
END:VTODO`),
  'milk.ics': vcalendar(`${BERLIN}
BEGIN:VTODO
UID:milk@almanac.test
DTSTAMP:20300101T000000Z
DUE;TZID=Europe/Berlin:20300312T090000
SUMMARY:Buy milk
END:VTODO`),
  'taxes.ics': vcalendar(`BEGIN:VTODO
UID:taxes@almanac.test
DTSTAMP:20300101T000000Z
DUE:20300301T170000Z
STATUS:COMPLETED
COMPLETED:20300228T120000Z
PERCENT-COMPLETE:100
SUMMARY:File taxes
END:VTODO`),
};

const MKCALENDAR_TASKS = `<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop>
    <D:displayname>Tasks</D:displayname>
    <C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set>
  </D:prop></D:set>
</C:mkcalendar>`;

void describe('khal and todoman read a vdir of the server\'s calendars', { skip: skipUnless(hasCaldav, 'python3-caldav') }, () => {
  let server: ServerProcess;
  let work = '';
  let vdir = '';

  async function send(method: string, path: string, body: string, contentType: string): Promise<number> {
    const response = await fetch(new URL(path, server.url), { method, body, headers: { Authorization: AUTH, 'Content-Type': contentType } });
    await response.arrayBuffer();
    return response.status;
  }

  before(async () => {
    assert.ok(hasCaldav, 'python3-caldav must be installed for this run (ALMANAC_REQUIRE_INTEROP=1)');
    server = await startServerProcess([USER]);
    work = mkdtempSync(join(tmpdir(), 'almanac-khal-'));
    vdir = join(work, 'calendars');
    for (const [name, body] of Object.entries(EVENTS)) {
      assert.equal(await send('PUT', `/calendars/erin/default/${name}`, body, 'text/calendar; charset=utf-8'), 201, name);
    }
    assert.equal(await send('MKCALENDAR', '/calendars/erin/tasks/', MKCALENDAR_TASKS, 'application/xml; charset=utf-8'), 201);
    for (const [name, body] of Object.entries(TODOS)) {
      assert.equal(await send('PUT', `/calendars/erin/tasks/${name}`, body, 'text/calendar; charset=utf-8'), 201, name);
    }
    const download = await run(PYTHON, [SCRIPT, server.url, USER.name, USER.password, vdir]);
    assert.equal(download.code, 0, download.stderr);
    assert.deepEqual(JSON.parse(download.stdout), {
      default: ['holiday.ics', 'plain.ics', 'standup.ics'],
      tasks: ['milk.ics', 'report.ics', 'taxes.ics'],
    });
  });
  after(async () => {
    rmSync(work, { recursive: true, force: true });
    await server.stop();
  });

  void it('khal lists the events in a range, recurrences expanded across DST, in the local zone', { skip: skipUnless(hasKhal, 'khal') }, async () => {
    const config = join(work, 'khal.conf');
    const khal = (localZone: string): string =>
      [
        '[calendars]',
        '[[default]]',
        `path = ${join(vdir, 'default')}`,
        '[sqlite]',
        `path = ${join(work, `khal-${localZone.replace('/', '-')}.db`)}`,
        '[locale]',
        `local_timezone = ${localZone}`,
        `default_timezone = ${localZone}`,
        'timeformat = %H:%M',
        'dateformat = %Y-%m-%d',
        'longdateformat = %Y-%m-%d',
        'datetimeformat = %Y-%m-%d %H:%M',
        'longdatetimeformat = %Y-%m-%d %H:%M',
        '',
      ].join('\n');
    const list = async (localZone: string, ...range: string[]): Promise<string[]> => {
      writeFileSync(config, khal(localZone));
      const result = await run('khal', ['-c', config, 'list', '--format', '{start} {end} {title}', '--day-format', '', ...range]);
      assert.equal(result.code, 0, result.stderr);
      return result.stdout.split('\n').filter((line) => line.trim() !== '');
    };

    assert.deepEqual(await list('UTC', '2030-03-01', '2030-04-30'), [
      '2030-03-04 10:00 2030-03-04 11:00 Plain meeting',
      '2030-03-06 2030-03-06 Holiday',
      '2030-03-18 08:00 2030-03-18 08:30 Team standup',
      '2030-04-02 09:00 2030-04-02 09:30 Team standup (moved)',
      '2030-04-08 07:00 2030-04-08 07:30 Team standup',
    ]);
    // In Berlin the standup stays at 09:00 on both sides of the DST change.
    assert.deepEqual(await list('Europe/Berlin', '2030-03-15', '2030-04-30'), [
      '2030-03-18 09:00 2030-03-18 09:30 Team standup',
      '2030-04-02 11:00 2030-04-02 11:30 Team standup (moved)',
      '2030-04-08 09:00 2030-04-08 09:30 Team standup',
    ]);
    // The EXDATE'd Monday and the Monday the override moved away from show nothing (khal's end day is inclusive).
    assert.deepEqual(await list('UTC', '2030-03-25', '2030-03-25'), []);
    assert.deepEqual(await list('UTC', '2030-04-01', '2030-04-01'), []);
  });

  void it('todoman lists the pending tasks, and all of them with --status ANY', { skip: skipUnless(hasTodoman, 'todoman') }, async () => {
    const config = join(work, 'todoman.py');
    writeFileSync(
      config,
      [
        `path = ${JSON.stringify(join(vdir, 'tasks'))}`,
        `cache_path = ${JSON.stringify(join(work, 'todoman.sqlite3'))}`,
        'date_format = "%Y-%m-%d"',
        'time_format = "%H:%M"',
        'default_list = "Tasks"',
        '',
      ].join('\n'),
    );
    interface Todo { summary: string; list: string; due: number | null; completed: boolean; completed_at: number | null; priority: number; percent: number }
    const list = async (...args: string[]): Promise<Todo[]> => {
      const result = await run('todoman', ['--config', config, '--porcelain', 'list', ...args]);
      assert.equal(result.code, 0, result.stderr);
      return (JSON.parse(result.stdout) as Todo[]).sort((a, b) => a.summary.localeCompare(b.summary));
    };
    const at = (iso: string): number => Date.parse(iso) / 1000;
    const shape = (todo: Todo): Record<string, unknown> => ({
      summary: todo.summary,
      list: todo.list,
      due: todo.due,
      completed: todo.completed,
      completed_at: todo.completed_at,
      priority: todo.priority,
      percent: todo.percent,
    });

    const report = { summary: 'Write report', list: 'Tasks', due: at('2030-03-10T17:00:00Z'), completed: false, completed_at: null, priority: 1, percent: 0 };
    // 09:00 Europe/Berlin (CET) is 08:00Z.
    const milk = { summary: 'Buy milk', list: 'Tasks', due: at('2030-03-12T08:00:00Z'), completed: false, completed_at: null, priority: 0, percent: 0 };
    const taxes = {
      summary: 'File taxes',
      list: 'Tasks',
      due: at('2030-03-01T17:00:00Z'),
      completed: true,
      completed_at: at('2030-02-28T12:00:00Z'),
      priority: 0,
      percent: 100,
    };
    assert.deepEqual((await list()).map(shape), [milk, report]);
    assert.deepEqual((await list('--status', 'ANY')).map(shape), [milk, taxes, report]);
    assert.deepEqual((await list('--status', 'COMPLETED')).map(shape), [taxes]);
  });
});
