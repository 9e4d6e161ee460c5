// vdirsyncer (Debian 0.19) as a real client of a real server process: two-way sync of a calendar and an
// address book of hundreds of items, edits and deletions on both sides, conflicts resolved by the
// configured side, and a final sync that changes nothing — both sides compared item by item each round.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { interopRequired, startServerProcess, type ServerProcess } from '../support/server-process.ts';
import {
  calendarItem,
  cardItem,
  DavClient,
  deleteLocal,
  inBatches,
  localItems,
  normalise,
  runVdirsyncer,
  writeLocal,
  type VdirsyncerRun,
} from './vdirsyncer-support.ts';

const hasVdirsyncer = spawnSync('vdirsyncer', ['--version']).status === 0;
const USER = 'vera';
const PASSWORD = 'vera-has-a-long-password';
/** Items created on each side at the start: 2 × 125 = 250 per collection. */
const PER_SIDE = 125;

interface Pair {
  /** The vdirsyncer pair name; its storages are `<name>_local` (a) and `<name>_remote` (b). */
  readonly name: 'cal' | 'book';
  readonly collection: string;
  readonly extension: '.ics' | '.vcf';
  readonly contentType: string;
  /** Which side the pair's conflict_resolution lets win. */
  readonly winner: 'local' | 'remote';
  /** UID → expected content (line endings normalised). */
  readonly expected: Map<string, string>;
  dir: string;
}

const serverUid = (pair: Pair, n: number): string => `srv-${pair.name}-${n}@almanac.test`;
const localUid = (pair: Pair, n: number): string => `loc-${pair.name}-${n}`;

/** The item for a UID, in the variant its number selects (VTODO every 4th event, vCard 4.0 every 3rd card). */
function item(pair: Pair, uid: string, label: string, eol: string): string {
  const n = Number(/-(\d+)(?:@|$)/u.exec(uid)?.[1] ?? '0');
  return pair.name === 'cal'
    ? calendarItem(uid, `${label} n°${n}`, { todo: n % 4 === 3, eol, day: n })
    : cardItem(uid, `${label} ${n}`, { v4: n % 3 === 2, eol });
}

void describe('vdirsyncer', { skip: !hasVdirsyncer && !interopRequired() ? 'vdirsyncer is not installed (apt-get install vdirsyncer)' : false }, () => {
  let server: ServerProcess;
  let client: DavClient;
  let work: string;
  let config: string;
  const pairs: Pair[] = [];

  before(async () => {
    assert.ok(hasVdirsyncer, 'vdirsyncer must be installed for this run (ALMANAC_REQUIRE_INTEROP=1)');
    server = await startServerProcess([{ name: USER, password: PASSWORD }]);
    client = new DavClient(server.url, USER, PASSWORD);
    work = mkdtempSync(join(tmpdir(), 'almanac-vdirsyncer-'));
    pairs.push(
      { name: 'cal', collection: `/calendars/${USER}/default/`, extension: '.ics', contentType: 'text/calendar', winner: 'local', expected: new Map(), dir: join(work, 'calendar') },
      { name: 'book', collection: `/addressbooks/${USER}/default/`, extension: '.vcf', contentType: 'text/vcard', winner: 'remote', expected: new Map(), dir: join(work, 'contacts') },
    );
    mkdirSync(join(work, 'status'));
    for (const pair of pairs) mkdirSync(pair.dir);
    // `collections = null` syncs the configured URL and folder directly: no discovery of other collections, no prompts.
    const sections = [`[general]\nstatus_path = ${JSON.stringify(join(work, 'status'))}\n`];
    for (const pair of pairs) {
      sections.push(
        `[pair ${pair.name}]\na = "${pair.name}_local"\nb = "${pair.name}_remote"\ncollections = null\nconflict_resolution = "${pair.winner === 'local' ? 'a' : 'b'} wins"\n`,
        `[storage ${pair.name}_local]\ntype = "filesystem"\npath = ${JSON.stringify(pair.dir)}\nfileext = "${pair.extension}"\n`,
        `[storage ${pair.name}_remote]\ntype = "${pair.name === 'cal' ? 'caldav' : 'carddav'}"\nurl = "${server.url}${pair.collection.slice(1)}"\nusername = "${USER}"\npassword = "${PASSWORD}"\n`,
      );
    }
    config = join(work, 'config');
    writeFileSync(config, sections.join('\n'));
    const discovered = await runVdirsyncer(config, ['discover'], work);
    assert.equal(discovered.code, 0, discovered.output);
  });

  after(async () => {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const sync = async (): Promise<VdirsyncerRun> => {
    const run = await runVdirsyncer(config, ['sync'], work);
    assert.equal(run.code, 0, run.output);
    return run;
  };

  /** Server and local folder each hold exactly the expected items, and vdirsyncer's status agrees with the server's ETags. */
  async function assertBothSidesMatch(round: string): Promise<void> {
    for (const pair of pairs) {
      const expectedUids = [...pair.expected.keys()].sort();
      const remote = await client.items(pair.collection);
      const local = localItems(pair.dir, pair.extension);
      assert.deepEqual([...remote.keys()].sort(), expectedUids, `${round}: UIDs on the server (${pair.name})`);
      assert.deepEqual([...local.keys()].sort(), expectedUids, `${round}: UIDs in the local folder (${pair.name})`);
      for (const [uid, content] of pair.expected) {
        assert.equal(normalise(remote.get(uid)?.content ?? ''), content, `${round}: server content of ${uid}`);
        assert.equal(normalise(local.get(uid)?.content ?? ''), content, `${round}: local content of ${uid}`);
      }
      // The ETag vdirsyncer kept for each item (from the PUT answer or the listing) is the one the server lists now.
      const status = new Database(join(work, 'status', `${pair.name}.items`), { readonly: true });
      try {
        const rows = status.prepare('SELECT ident, href_b, etag_b FROM status').all() as { ident: string; href_b: string; etag_b: string | null }[];
        assert.deepEqual(rows.map((r) => r.ident).sort(), expectedUids, `${round}: vdirsyncer's status (${pair.name})`);
        for (const row of rows) {
          const listed = remote.get(row.ident);
          assert.equal(decodeURIComponent(row.href_b), listed?.href, `${round}: href of ${row.ident}`);
          assert.equal(row.etag_b, listed?.etag, `${round}: ETag vdirsyncer holds for ${row.ident}`);
        }
      } finally {
        status.close();
      }
    }
  }

  const putOnServer = async (pair: Pair, path: string, uid: string, label: string, precondition: Record<string, string>): Promise<number> => {
    const body = item(pair, uid, label, '\r\n');
    const { status, etag } = await client.put(path, body, pair.contentType, precondition);
    assert.ok(etag !== null && /^"[^"]+"$/u.test(etag), `PUT ${path} answers a strong ETag`);
    pair.expected.set(uid, normalise(body));
    return status;
  };

  const writeLocally = (pair: Pair, file: string, uid: string, label: string): void => {
    const body = item(pair, uid, label, '\n');
    writeLocal(join(pair.dir, file), body);
    pair.expected.set(uid, normalise(body));
  };

  void it(`uploads and downloads ${2 * PER_SIDE} items per collection on the first sync`, async () => {
    const wanted: string[] = [];
    for (const pair of pairs) {
      const numbers = Array.from({ length: PER_SIDE }, (_, n) => n);
      await inBatches(numbers, 8, async (n) => {
        assert.equal(await putOnServer(pair, `${pair.collection}s-${n}${pair.extension}`, serverUid(pair, n), 'Serveur', { 'if-none-match': '*' }), 201);
      });
      for (const n of numbers) {
        writeLocally(pair, `local-${n}${pair.extension}`, localUid(pair, n), 'Local');
        wanted.push(`upload ${serverUid(pair, n)} ${pair.name}_local`, `upload ${localUid(pair, n)} ${pair.name}_remote`);
      }
    }
    const run = await sync();
    assert.deepEqual(run.actions, wanted.sort());
    await assertBothSidesMatch('first sync');
  });

  void it('carries edits, deletions and additions made on both sides', async () => {
    const wanted: string[] = [];
    for (const pair of pairs) {
      const remote = await client.items(pair.collection);
      const local = localItems(pair.dir, pair.extension);
      const uids = (numbers: number[]): string[] => numbers.flatMap((n) => [serverUid(pair, n), localUid(pair, n)]);
      const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
      for (const uid of uids(range(0, 10))) {
        const { href, etag } = remote.get(uid) ?? assert.fail(`${uid} on the server`);
        assert.equal(await putOnServer(pair, href, uid, 'Édité sur le serveur', { 'if-match': etag }), 204);
        wanted.push(`update ${uid} ${pair.name}_local`);
      }
      for (const uid of uids(range(10, 15))) {
        const { href, etag } = remote.get(uid) ?? assert.fail(`${uid} on the server`);
        assert.equal((await client.request('DELETE', encodeURI(href), { 'if-match': etag })).status, 204);
        pair.expected.delete(uid);
        wanted.push(`delete ${uid} ${pair.name}_local`);
      }
      for (const uid of uids(range(20, 30))) {
        writeLocally(pair, (local.get(uid) ?? assert.fail(`${uid} locally`)).file, uid, 'Édité localement');
        wanted.push(`update ${uid} ${pair.name}_remote`);
      }
      for (const uid of uids(range(30, 35))) {
        deleteLocal(join(pair.dir, (local.get(uid) ?? assert.fail(`${uid} locally`)).file));
        pair.expected.delete(uid);
        wanted.push(`delete ${uid} ${pair.name}_remote`);
      }
      for (const n of range(200, 205)) {
        assert.equal(await putOnServer(pair, `${pair.collection}s-${n}${pair.extension}`, serverUid(pair, n), 'Nouveau serveur', { 'if-none-match': '*' }), 201);
        writeLocally(pair, `local-${n}${pair.extension}`, localUid(pair, n), 'Nouveau local');
        wanted.push(`upload ${serverUid(pair, n)} ${pair.name}_local`, `upload ${localUid(pair, n)} ${pair.name}_remote`);
      }
    }
    const run = await sync();
    assert.deepEqual(run.actions, wanted.sort());
    await assertBothSidesMatch('after edits and deletions');
  });

  void it('resolves conflicts in favour of the configured side (calendar: local wins, contacts: server wins)', async () => {
    const wanted: string[] = [];
    for (const pair of pairs) {
      const remote = await client.items(pair.collection);
      const local = localItems(pair.dir, pair.extension);
      for (const uid of [serverUid(pair, 40), serverUid(pair, 41), localUid(pair, 40), localUid(pair, 41)]) {
        const { href, etag } = remote.get(uid) ?? assert.fail(`${uid} on the server`);
        const file = (local.get(uid) ?? assert.fail(`${uid} locally`)).file;
        assert.equal(await putOnServer(pair, href, uid, 'Conflit, version serveur', { 'if-match': etag }), 204);
        const serverVersion = pair.expected.get(uid);
        writeLocally(pair, file, uid, 'Conflit, version locale');
        if (pair.winner === 'remote' && serverVersion !== undefined) pair.expected.set(uid, serverVersion);
        wanted.push(`conflict ${uid}`, `update ${uid} ${pair.name}_${pair.winner === 'local' ? 'remote' : 'local'}`);
      }
      // Deleted on one side, edited on the other: the edit wins over the deletion, whichever the winner.
      const deletedOnServer = serverUid(pair, 50);
      const onServer = remote.get(deletedOnServer) ?? assert.fail(`${deletedOnServer} on the server`);
      assert.equal((await client.request('DELETE', encodeURI(onServer.href), { 'if-match': onServer.etag })).status, 204);
      writeLocally(pair, (local.get(deletedOnServer) ?? assert.fail(`${deletedOnServer} locally`)).file, deletedOnServer, 'Supprimé sur le serveur, édité localement');
      wanted.push(`upload ${deletedOnServer} ${pair.name}_remote`);
      const deletedLocally = localUid(pair, 50);
      deleteLocal(join(pair.dir, (local.get(deletedLocally) ?? assert.fail(`${deletedLocally} locally`)).file));
      const stillOnServer = remote.get(deletedLocally) ?? assert.fail(`${deletedLocally} on the server`);
      assert.equal(await putOnServer(pair, stillOnServer.href, deletedLocally, 'Supprimé localement, édité sur le serveur', { 'if-match': stillOnServer.etag }), 204);
      wanted.push(`upload ${deletedLocally} ${pair.name}_local`);
    }
    const run = await sync();
    assert.deepEqual(run.actions, wanted.sort());
    await assertBothSidesMatch('after conflicts');
    for (const pair of pairs) {
      const winner = pair.winner === 'local' ? 'Conflit, version locale' : 'Conflit, version serveur';
      assert.ok(pair.expected.get(serverUid(pair, 40))?.includes(winner), `${pair.name}: the ${pair.winner} side won`);
    }
  });

  void it('ends with a sync that changes nothing, on either side', async () => {
    const before = new Map<string, { token: string; members: Map<string, string> }>();
    for (const pair of pairs) before.set(pair.name, { token: (await client.sync(pair.collection, '')).token, members: await client.members(pair.collection) });
    const run = await sync();
    assert.deepEqual(run.actions, [], 'vdirsyncer has nothing to do');
    assert.deepEqual(
      run.output.split('\n').filter((line) => line.trim() !== '' && !/^Syncing (cal|book)$/u.test(line)),
      [],
      `vdirsyncer reports nothing but the pairs it looked at:\n${run.output}`,
    );
    for (const pair of pairs) {
      const { token, members } = before.get(pair.name) ?? assert.fail('token');
      const answer = await client.sync(pair.collection, token);
      assert.deepEqual([answer.changed, answer.removed], [[], []], `${pair.name}: sync-collection reports no change after the final sync`);
      assert.equal(answer.token, token, `${pair.name}: the sync-token did not move`);
      assert.deepEqual(await client.members(pair.collection), members, `${pair.name}: no ETag changed`);
    }
    await assertBothSidesMatch('after the final sync');
  });
});
