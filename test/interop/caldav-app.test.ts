// The python `caldav` library (Debian python3-caldav) used as an app would, against a real server
// process: discovery, calendars, events and tasks, date searches with and without expand, 412, UIDs.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { interopRequired, startServerProcess, type ServerProcess } from '../support/server-process.ts';

// Debian's python, where python3-caldav is installed (another python3 may come first on PATH).
const PYTHON = '/usr/bin/python3';
const hasCaldav = spawnSync(PYTHON, ['-c', 'import caldav']).status === 0;
const SCRIPT = fileURLToPath(new URL('./caldav_app.py', import.meta.url));

// <C:supported-calendar-component/> in a DAV:error body, whatever the prefix.
const SUPPORTED_COMPONENT = /<([\w-]+:)?supported-calendar-component(?=[\s/>])[^>]*(\/>|>\s*<\/([\w-]+:)?supported-calendar-component>)/u;

type Step = Record<string, unknown> & { step: string; error?: string; trace?: string };

function runScript(url: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, url, 'dana', 'dana-secret'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 45_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

void describe('python caldav as an app', { skip: !hasCaldav && !interopRequired() ? 'python3-caldav is not installed (apt-get install python3-caldav)' : false }, () => {
  let server: ServerProcess;
  let base = '';
  const steps = new Map<string, Step>();

  /** The output of one step of the script; a step that raised fails the test with its error. */
  function step(name: string): Step {
    const found = steps.get(name);
    assert.ok(found !== undefined, `the script printed no step ${name}`);
    assert.equal(found.error, undefined, `step ${name} raised:\n${found.trace ?? ''}`);
    return found;
  }

  before(async () => {
    assert.ok(hasCaldav, 'python3-caldav must be installed for this run (ALMANAC_REQUIRE_INTEROP=1)');
    server = await startServerProcess([{ name: 'dana', password: 'dana-secret' }]);
    base = server.url;
    // The script runs every step once; the tests below assert on what each step printed.
    const run = await runScript(server.url);
    assert.equal(run.code, 0, run.stderr);
    for (const line of run.stdout.split('\n')) {
      if (line.trim() === '') continue;
      const parsed = JSON.parse(line) as Step;
      steps.set(parsed.step, parsed);
    }
  });
  after(async () => server.stop());

  void it('discovers the principal, home and default calendar from the root URL', () => {
    assert.deepEqual(step('discovery_root'), {
      step: 'discovery_root',
      principal: `${base}principals/dana/`,
      home: `${base}calendars/dana/`,
      calendars: [{ url: `${base}calendars/dana/default/`, name: 'Calendar' }],
    });
  });

  void it('discovers the principal and calendars from /.well-known/caldav', () => {
    // requests follows the 301 but drops the PROPFIND body (it does for 301/302/303), so the server
    // sees an allprop PROPFIND on / — it must still lead the client to its principal.
    assert.deepEqual(step('discovery_well_known'), {
      step: 'discovery_well_known',
      principal: `${base}principals/dana/`,
      calendars: [`${base}calendars/dana/default/`],
    });
  });

  void it('creates an events-only and a tasks-only calendar with MKCALENDAR', () => {
    const made = step('make_calendars');
    assert.deepEqual(made.work, { url: `${base}calendars/dana/work/`, name: 'Work events', components: ['VEVENT'] });
    assert.deepEqual(made.tasks, { url: `${base}calendars/dana/tasks/`, name: 'Tasks', components: ['VTODO'] });
    assert.deepEqual(made.listed, [
      { url: `${base}calendars/dana/default/`, name: 'Calendar' },
      { url: `${base}calendars/dana/tasks/`, name: 'Tasks' },
      { url: `${base}calendars/dana/work/`, name: 'Work events' },
    ]);
  });

  void it('adds a plain, a recurring, an all-day and a Europe/Berlin event, and three tasks', () => {
    const events = step('add_events');
    assert.deepEqual(events.events, ['Berlin standup', 'Holiday', 'Plain meeting', 'Weekly sync']);
    assert.deepEqual(Object.keys(events.urls as object).sort(), ['allday', 'berlin', 'plain', 'weekly']);
    assert.equal((events.urls as Record<string, string>).weekly, `${base}calendars/dana/work/weekly-1.ics`);
    const todos = step('add_todos');
    assert.equal((todos.urls as Record<string, string>).report, `${base}calendars/dana/tasks/todo-report.ics`);
  });

  // Each range: the objects found without expand (summaries of the masters), and the instances found
  // with expand as 'summary|RECURRENCE-ID|DTSTART' (UTC, as RFC 4791 §9.6.5 wants them).
  const ranges: { name: string; what: string; plain: string[]; expanded: string[] }[] = [
    {
      name: 'mar04',
      what: 'a day with a plain event and the first instance of the weekly one',
      plain: ['Plain meeting', 'Weekly sync'],
      expanded: ['Plain meeting|-|20300304T100000Z', 'Weekly sync|20300304T090000Z|20300304T090000Z'],
    },
    {
      name: 'override_only',
      what: 'the day the overridden instance moved to',
      plain: ['Weekly sync'],
      expanded: ['Weekly sync (moved)|20300325T090000Z|20300327T140000Z'],
    },
    { name: 'override_old_slot', what: 'the slot the overridden instance moved away from', plain: [], expanded: [] },
    { name: 'exdate_only', what: 'a day whose only candidate is the EXDATE instance', plain: [], expanded: [] },
    { name: 'after_count', what: 'the week after the COUNT ran out', plain: [], expanded: [] },
    { name: 'allday', what: 'the morning of the all-day event', plain: ['Holiday'], expanded: ['Holiday|-|20300306'] },
    { name: 'allday_after', what: 'the day after the all-day event (DTEND is exclusive)', plain: [], expanded: [] },
    {
      name: 'berlin_cet',
      what: 'the Berlin event before the DST change (09:00 CET = 08:00Z)',
      plain: ['Berlin standup'],
      expanded: ['Berlin standup|20300326T080000Z|20300326T080000Z'],
    },
    {
      name: 'berlin',
      what: 'the Berlin event after the DST change (09:00 CEST = 07:00Z)',
      plain: ['Berlin standup'],
      expanded: ['Berlin standup|20300402T070000Z|20300402T070000Z'],
    },
    { name: 'berlin_if_utc', what: 'where the Berlin event would be if its TZID were ignored', plain: [], expanded: [] },
    {
      name: 'march',
      what: 'the whole of March',
      plain: ['Berlin standup', 'Holiday', 'Plain meeting', 'Weekly sync'],
      expanded: [
        'Berlin standup|20300326T080000Z|20300326T080000Z',
        'Holiday|-|20300306',
        'Plain meeting|-|20300304T100000Z',
        'Weekly sync (moved)|20300325T090000Z|20300327T140000Z',
        'Weekly sync|20300304T090000Z|20300304T090000Z',
        'Weekly sync|20300311T090000Z|20300311T090000Z',
      ],
    },
  ];
  for (const range of ranges) {
    void it(`date search over ${range.what} (${range.name}), with and without server-side expand`, () => {
      const result = step(`search:${range.name}`);
      assert.deepEqual(result.plain, range.plain, 'search(event=True, start, end)');
      assert.deepEqual(result.date_search, range.plain, 'date_search(start, end, expand=False)');
      assert.deepEqual(result.server_expanded, range.expanded, 'calendar-query with <C:expand>, as the server answered');
      assert.equal(result.server_expanded_has_rules, false, 'expanded data carries no RRULE/EXDATE/RDATE');
      assert.equal(result.server_expanded_has_vtimezone, false, 'expanded data carries no VTIMEZONE');
      assert.deepEqual(result.expanded, range.expanded, 'search(..., expand=True)');
    });
  }

  void it('lists pending tasks, all tasks and tasks due in a range', () => {
    assert.deepEqual(step('todos'), {
      step: 'todos',
      pending: ['Write report', 'Buy milk'], // sorted by DUE, the completed one left out
      all: ['Buy milk', 'File taxes', 'Write report'],
      in_range: ['Write report'],
      pending_in_range: ['Buy milk', 'Write report'],
      events_in_tasks: [],
    });
  });

  void it('completes a task through the library, which then leaves it out of the pending list', () => {
    assert.deepEqual(step('complete_todo'), {
      step: 'complete_todo',
      status: 'COMPLETED',
      completed: '20300302T080000Z',
      pending: ['Write report'],
    });
  });

  void it('refuses the second of two conflicting saves with 412 Precondition Failed', () => {
    assert.deepEqual(step('conflict_412'), {
      step: 'conflict_412',
      etags_equal: true,
      put_a: 204,
      put_a_etag_changed: true,
      put_b: 412,
      create_over: 412,
      final_summary: 'Holiday (edited by A)',
      final_etag_is_a: true,
      library_etag: true,
    });
  });

  void it('refuses a second resource with an existing UID with CALDAV:no-uid-conflict naming the first', () => {
    const result = step('duplicate_uid');
    assert.ok(result.status === 409 || result.status === 403, `status ${String(result.status)}`);
    const body = String(result.body);
    // RFC 4791 §5.3.2.1: the error names the resource that already holds the UID.
    const href = String(result.existing_href).replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
    assert.match(body, new RegExp(`<([\\w-]+:)?no-uid-conflict(?=[\\s>])[^>]*>\\s*<([\\w-]+:)?href(?=[\\s>])[^>]*>${href}</([\\w-]+:)?href>\\s*</([\\w-]+:)?no-uid-conflict>`, 'u'));
    assert.equal(result.library_error, 'PutError');
    assert.equal(result.other_exists, 404);
    assert.deepEqual(result.events, ['Berlin standup', 'Holiday (edited by A)', 'Plain meeting', 'Weekly sync']);
  });

  void it('refuses a VTODO in the events-only calendar and a VEVENT in the tasks-only one', () => {
    const result = step('unsupported_component');
    assert.equal(result.status, 403);
    assert.match(String(result.body), SUPPORTED_COMPONENT);
    // The library's save raises (for a 403 it raises AuthorizationError rather than PutError).
    assert.notEqual(result.library_error, null);
    assert.equal(result.event_in_tasks_status, 403);
    assert.match(String(result.event_in_tasks_body), SUPPORTED_COMPONENT);
    assert.deepEqual(result.work_todos, []);
  });

  void it('deletes events, which then vanish from GET, lookups and searches', () => {
    assert.deepEqual(step('delete'), {
      step: 'delete',
      get_status: 404,
      not_found: ['plain', 'weekly'],
      march: ['Berlin standup', 'Holiday (edited by A)'],
      march_expanded: ['Berlin standup|20300326T080000Z|20300326T080000Z', 'Holiday (edited by A)|-|20300306'],
      events: ['Berlin standup', 'Holiday (edited by A)'],
    });
  });
});
