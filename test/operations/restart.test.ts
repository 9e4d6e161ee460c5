// Restart without downtime, through the real `almanac serve` supervisor and `almanac restart`: while
// several clients send requests (some on keep-alive connections, some opening a connection per
// request, so connections are being accepted at the moment of the switch), the node is replaced.
// No connection may be refused or reset and every answer must be right. (A new worker that cannot
// serve: unexpected-release.test.ts.)
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startServerProcess, type ServerProcess } from '../support/server-process.ts';

const USER = { name: 'rita', password: 'rita-secret' };
const AUTH = `Basic ${Buffer.from(`${USER.name}:${USER.password}`).toString('base64')}`;
const SEEDED = 20;
const CLIENTS = 6;
// Bounds of the load: whichever is reached first ends it.
const MAX_REQUESTS = 4000;
const MAX_MS = 20_000;

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function send(url: string, agent: Agent, method: string, path: string, body = '', headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method, agent, headers: { authorization: AUTH, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    // An answer that never comes is a failure too, not a hung test.
    req.setTimeout(15_000, () => req.destroy(new Error(`no answer to ${method} ${path} within 15 s`)));
    req.end(body);
  });
}

function event(uid: string): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//almanac tests//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', 'DTSTART:20260301T090000Z', 'DURATION:PT1H', `SUMMARY:${uid}`, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
}

const CALENDAR = `/calendars/${USER.name}/default/`;
const LISTING = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>';

function members(multistatus: string): string[] {
  return [...multistatus.matchAll(/<D:href>([^<]*\.ics)<\/D:href>/giu)].map((m) => m[1] ?? '').sort();
}

function status(server: ServerProcess): { workerPid: number; restart: { attempt: number; state: string } } {
  return JSON.parse(readFileSync(join(server.dataDir, 'almanac.supervisor.json'), 'utf8')) as { workerPid: number; restart: { attempt: number; state: string } };
}

void describe('restart without downtime', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess([USER]);
    const agent = new Agent({ keepAlive: false });
    for (let i = 0; i < SEEDED; i++) assert.equal((await send(server.url, agent, 'PUT', `${CALENDAR}seed-${i}.ics`, event(`seed-${i}`), { 'content-type': 'text/calendar' })).status, 201);
    agent.destroy();
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  void it('replaces the worker under load with no refused or reset connection and every answer right', async () => {
    const expected = new Set(Array.from({ length: SEEDED }, (_, i) => `${CALENDAR}seed-${i}.ics`));
    const failures: string[] = [];
    let sent = 0;
    let answered = 0;
    let restartDone = false;
    let afterRestart = 0;
    const deadline = Date.now() + MAX_MS;
    const client = async (index: number): Promise<void> => {
      // Even clients keep their connection; odd ones open one per request.
      const agent = new Agent({ keepAlive: index % 2 === 0, maxSockets: 1 });
      let own = 0;
      try {
        while (sent < MAX_REQUESTS && Date.now() < deadline && !(restartDone && afterRestart > 200)) {
          sent += 1;
          const kind = sent % 3;
          try {
            if (kind === 0) {
              // Only what was acknowledged before the request was sent must be listed.
              const acknowledged = [...expected];
              const answer = await send(server.url, agent, 'PROPFIND', CALENDAR, LISTING, { depth: '1', 'content-type': 'application/xml' });
              const listed = new Set(members(answer.body));
              const missing = acknowledged.filter((href) => !listed.has(href));
              if (answer.status !== 207 || missing.length > 0) failures.push(`PROPFIND ${answer.status}, missing ${missing.length}`);
            } else if (kind === 1) {
              const n = sent % SEEDED;
              const answer = await send(server.url, agent, 'GET', `${CALENDAR}seed-${n}.ics`);
              if (answer.status !== 200 || !answer.body.includes(`UID:seed-${n}\r\n`)) failures.push(`GET ${answer.status}`);
            } else {
              const name = `c${index}-${own++}`;
              const answer = await send(server.url, agent, 'PUT', `${CALENDAR}${name}.ics`, event(name), { 'content-type': 'text/calendar', 'if-none-match': '*' });
              if (answer.status === 201) expected.add(`${CALENDAR}${name}.ics`);
              else failures.push(`PUT ${answer.status}`);
            }
            answered += 1;
            if (restartDone) afterRestart += 1;
          } catch (error) {
            failures.push(`${(error as NodeJS.ErrnoException).code ?? ''} ${(error as Error).message} (client ${index}, ${index % 2 === 0 ? 'keep-alive' : 'new connection'}, ${restartDone ? 'after' : 'before or during'} the restart)`);
          }
        }
      } finally {
        agent.destroy();
      }
    };
    const load = Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
    while (answered < 100 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    const oldWorker = status(server).workerPid;
    const restarted = await runCli(['restart', '--data', server.dataDir]);
    restartDone = true;
    await load;
    assert.equal(restarted.code, 0, restarted.stderr);
    assert.match(restarted.stdout, /^restarted: worker \d+ serves/u);
    assert.notEqual(status(server).workerPid, oldWorker, 'another worker serves now');
    assert.deepEqual(failures, [], `${failures.length} of ${sent} requests failed`);
    assert.ok(afterRestart > 0, 'requests were answered after the restart too');
    const final = await send(server.url, new Agent(), 'PROPFIND', CALENDAR, LISTING, { depth: '1', 'content-type': 'application/xml' });
    assert.deepEqual(members(final.body), [...expected].sort(), 'every acknowledged PUT is there');
  });

  void it('replaces a serving worker killed with kill -9, keeping every acknowledged write', async () => {
    // The listening socket closes with its last worker; with --port 0 the replacement gets a new port.
    const url = (): string => (JSON.parse(readFileSync(join(server.dataDir, 'almanac.supervisor.json'), 'utf8')) as { url: string }).url;
    const list = () => send(url(), new Agent({ keepAlive: false }), 'PROPFIND', CALENDAR, LISTING, { depth: '1', 'content-type': 'application/xml' });
    const before = await list();
    assert.equal(before.status, 207);
    const victim = server.servingPid();
    assert.ok(victim !== undefined && victim !== server.child.pid, 'a worker serves');
    process.kill(victim, 'SIGKILL');
    const deadline = Date.now() + 15_000;
    while ((server.servingPid() === victim || server.servingPid() === undefined) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.notEqual(server.servingPid(), victim, 'the supervisor started another worker');
    assert.equal(server.child.exitCode, null, 'the supervisor is still running');
    const listing = await list();
    assert.equal(listing.status, 207);
    assert.ok(members(before.body).length >= SEEDED);
    assert.deepEqual(members(listing.body), members(before.body), 'every acknowledged write is still there');
  });

  void it('says so when no server runs on the folder', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'almanac-restart-'));
    try {
      const result = await runCli(['restart', '--data', empty]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^almanac: no Almanac server is running on /u);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
