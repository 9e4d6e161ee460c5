// Real `almanac serve` processes on one PostgreSQL (a throw-away cluster started for this file): one
// node answers a PUT/GET/PROPFIND/sync-collection round trip, then three nodes take writes to one
// calendar at the same moment and must agree afterwards — every write acknowledged is listed by every
// node, the sync token is the same everywhere, an incremental sync from an early token names each
// member once, and a UID claimed under two names on two nodes is stored once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { skipWithoutPostgres, TestPostgres } from '../support/postgres.ts';
import { runCli, startServerProcess, type ServerProcess } from '../support/server-process.ts';

const USER = { name: 'alice', password: 'multi-node-secret' };
const AUTH = `Basic ${Buffer.from(`${USER.name}:${USER.password}`).toString('base64')}`;
const CALENDAR = '/calendars/alice/default/';

const event = (uid: string, summary: string): string =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Almanac tests//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', 'DTSTART:20260301T100000Z', 'DTEND:20260301T110000Z', `SUMMARY:${summary}`, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');

async function request(server: ServerProcess, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(new URL(path, server.url), { method, headers: { Authorization: AUTH, ...headers }, ...(body === undefined ? {} : { body }) });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

function syncReport(token: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>${token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`;
}

/** The token and the member hrefs with their ETags (null for a removed member) of a sync answer. */
function parseSync(text: string): { token: string; members: Map<string, string | null> } {
  const token = /<(?:\w+:)?sync-token>([^<]+)<\//u.exec(text)?.[1];
  assert.ok(token !== undefined, `no sync-token in ${text}`);
  const members = new Map<string, string | null>();
  for (const block of text.split(/<(?:\w+:)?response>/u).slice(1)) {
    const href = /<(?:\w+:)?href>([^<]+)<\//u.exec(block)?.[1];
    if (href === undefined) continue;
    const etag = /<(?:\w+:)?getetag>([^<]+)<\//u.exec(block)?.[1];
    members.set(decodeURIComponent(href), etag === undefined ? null : etag.replaceAll('&quot;', '"'));
  }
  return { token, members };
}

async function sync(server: ServerProcess, token = ''): Promise<{ token: string; members: Map<string, string | null> }> {
  const answer = await request(server, 'REPORT', CALENDAR, syncReport(token), { 'Content-Type': 'application/xml; charset=utf-8', Depth: '1' });
  assert.equal(answer.status, 207, answer.text);
  return parseSync(answer.text);
}

void describe('almanac on PostgreSQL, one and several nodes', { skip: skipWithoutPostgres() }, () => {
  let cluster: TestPostgres;
  let url: string;
  const nodes: ServerProcess[] = [];
  before(async () => {
    cluster = await TestPostgres.start();
    url = await cluster.createDatabase('nodes');
    nodes.push(await startServerProcess([USER], { database: url }));
  });
  after(async () => {
    const codes = await Promise.all(nodes.map((n) => n.stop()));
    await cluster.stop();
    assert.deepEqual(codes, codes.map(() => 0), 'every node exits cleanly on SIGTERM');
  });

  void it('answers a PUT, GET, PROPFIND and sync-collection round trip from PostgreSQL', async () => {
    const node = nodes[0]!;
    const put = await request(node, 'PUT', `${CALENDAR}first.ics`, event('first', 'First'), { 'Content-Type': 'text/calendar; charset=utf-8', 'If-None-Match': '*' });
    assert.equal(put.status, 201, put.text);
    const etag = put.headers.get('etag');
    assert.ok(etag !== null);
    const get = await request(node, 'GET', `${CALENDAR}first.ics`);
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('etag'), etag);
    assert.match(get.text, /SUMMARY:First/u);
    const propfind = await request(node, 'PROPFIND', CALENDAR, '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:displayname/></D:prop></D:propfind>', {
      Depth: '1',
      'Content-Type': 'application/xml',
    });
    assert.equal(propfind.status, 207);
    assert.ok(propfind.text.includes(`${CALENDAR}first.ics`));
    const initial = await sync(node);
    assert.deepEqual([...initial.members], [[`${CALENDAR}first.ics`, etag]]);
    const ready = await fetch(new URL('/readyz', node.url));
    assert.equal(ready.status, 200);
  });

  void it('keeps three nodes writing one calendar at once in agreement', async () => {
    nodes.push(await startServerProcess([], { database: url }), await startServerProcess([], { database: url }));
    const early = await sync(nodes[1]!);
    const writes = 45;
    const results = await Promise.all(
      Array.from({ length: writes }, (_, i) =>
        request(nodes[i % 3]!, 'PUT', `${CALENDAR}e${i % 15}.ics`, event(`e${i % 15}`, `write ${i}`), { 'Content-Type': 'text/calendar; charset=utf-8' }),
      ),
    );
    assert.ok(results.every((r) => r.status === 201 || r.status === 204), `every write was acknowledged: ${results.map((r) => r.status).join(',')}`);
    assert.equal(results.filter((r) => r.status === 201).length, 15, 'each of the 15 names was created exactly once');

    const views = await Promise.all(nodes.map((n) => sync(n)));
    const [first, ...others] = views as [ReturnType<typeof parseSync>, ...ReturnType<typeof parseSync>[]];
    for (const view of others) {
      assert.equal(view.token, first.token, 'every node reports the same position');
      assert.deepEqual([...view.members].sort(), [...first.members].sort());
    }
    assert.equal(first.members.size, 16);
    for (const [href, etag] of first.members) {
      const get = await request(nodes[2]!, 'GET', href);
      assert.equal(get.headers.get('etag'), etag, `${href}: the listed ETag is the stored one`);
    }
    const delta = await sync(nodes[0]!, early.token);
    assert.equal(delta.members.size, 15, 'an incremental sync names each changed member once');
    assert.equal(delta.token, first.token);
  });

  void it('stores a UID claimed under two names on different nodes only once', async () => {
    const attempts = await Promise.all(
      nodes.map((node, i) => request(node, 'PUT', `${CALENDAR}contested-${i}.ics`, event('contested', `node ${i}`), { 'Content-Type': 'text/calendar; charset=utf-8' })),
    );
    assert.equal(attempts.filter((a) => a.status === 201).length, 1, attempts.map((a) => `${a.status} ${a.text}`).join('\n'));
    assert.ok(attempts.every((a) => a.status === 201 || a.status === 409 || a.status === 403), attempts.map((a) => a.status).join(','));
    const listing = await sync(nodes[1]!);
    assert.equal([...listing.members.keys()].filter((href) => href.includes('contested')).length, 1);
  });

  void it('lists every serving node from the shared registry', async () => {
    const status = await runCli(['release', 'status', '--json', '--database', url]);
    assert.equal(status.code, 0, status.stderr);
    const parsed = JSON.parse(status.stdout) as { nodes: { pid: number }[] };
    assert.deepEqual(parsed.nodes.map((n) => n.pid).sort(), nodes.map((n) => n.servingPid()).sort());
  });

  void it('answers 503 with Retry-After while PostgreSQL is down, says why on /readyz, and recovers without a restart', async () => {
    await cluster.suspend();
    try {
      for (const node of nodes) {
        const listing = await request(node, 'PROPFIND', CALENDAR, undefined, { Depth: '1' });
        assert.equal(listing.status, 503, listing.text);
        assert.ok(Number(listing.headers.get('retry-after')) >= 1);
        const put = await request(node, 'PUT', `${CALENDAR}during.ics`, event('during', 'during'), { 'Content-Type': 'text/calendar; charset=utf-8' });
        assert.equal(put.status, 503);
      }
      const ready = await fetch(new URL('/readyz', nodes[0]!.url));
      assert.equal(ready.status, 503);
      assert.match(await ready.text(), /PostgreSQL is unreachable/u);
    } finally {
      await cluster.resume();
    }
    for (const node of nodes) {
      const put = await request(node, 'PUT', `${CALENDAR}after-${node.child.pid}.ics`, event(`after-${node.child.pid}`, 'after'), { 'Content-Type': 'text/calendar; charset=utf-8' });
      assert.equal(put.status, 201, put.text);
    }
    assert.equal((await fetch(new URL('/readyz', nodes[1]!.url))).status, 200);
  });

  void it('keeps every acknowledged write through a PostgreSQL restart under load, answering 503 (never 500) meanwhile', async () => {
    const acknowledged: string[] = [];
    const statuses = new Map<number, number>();
    let stop = false;
    const deadline = Date.now() + 60_000;
    const writer = async (node: ServerProcess, n: number): Promise<void> => {
      for (let i = 0; i < 400 && !stop && Date.now() < deadline; i += 1) {
        const name = `load-${n}-${i}.ics`;
        const put = await request(node, 'PUT', `${CALENDAR}${name}`, event(name, `load ${i}`), { 'Content-Type': 'text/calendar; charset=utf-8' });
        statuses.set(put.status, (statuses.get(put.status) ?? 0) + 1);
        if (put.status === 201) acknowledged.push(name);
        else assert.ok(Number(put.headers.get('retry-after')) >= 1, `${put.status} without Retry-After: ${put.text}`);
        if (put.status === 503) await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const until = async (condition: () => boolean): Promise<void> => {
      while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    };
    const load = Promise.all(nodes.map((node, n) => writer(node, n)));
    await until(() => acknowledged.length >= 15);
    await cluster.suspend();
    await until(() => (statuses.get(503) ?? 0) >= 6);
    await cluster.resume();
    const before = acknowledged.length;
    await until(() => acknowledged.length >= before + 15);
    stop = true;
    await load;
    assert.deepEqual([...statuses.keys()].sort(), [201, 503], `only 201 and 503 answers: ${JSON.stringify([...statuses])}`);
    assert.ok(acknowledged.length >= before + 15, 'writes succeed again after the restart, without restarting any node');
    const listing = await sync(nodes[2]!);
    for (const name of acknowledged) assert.ok(listing.members.has(`${CALENDAR}${name}`), `${name} was acknowledged and must be listed`);
  });
});
