// The contract step of the reference migration on SQLite, end to end as an operator runs it: a
// database of the previous release, `migrate rehearse` (which now includes the contract step 0013),
// `release expect`, this release serving (expand at start, backfill in the background), then
// `migrate contract` — refused while a live node of the previous release is registered, naming it,
// and run once it is gone. Afterwards the object_busy triggers are gone and the write path alone keeps
// every row exact through puts, updates, deletes, moves, copies, overwrites, a calendar delete, a
// home delete and a user delete, with free-busy answers identical to those of a database that never had object_busy.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import pino from 'pino';
import { hashPassword } from '../../src/auth/passwords.ts';
import { DEFAULTS } from '../../src/config/config.ts';
import { buildDavServer, startAlmanac } from '../../src/http/app.ts';
import { currentReleaseIdentity } from '../../src/release/identity.ts';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations/index.ts';
import { forgetNode, heartbeat, liveNodes } from '../../src/store/sqlite/release-state.ts';
import { DATABASE_FILE, SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { announcementFile } from '../../src/store/sqlite/step-announcement.ts';
import { cli } from '../support/cli.ts';
import { freeBusy, seed, verifySqliteObjectBusy, writeAndCheckAfterContract, type Send } from '../support/object-busy-scenario.ts';

const AUTH = `Basic ${Buffer.from('alice:pw').toString('base64')}`;
const PREVIOUS = { version: '0.0.1', migrationHash: 'previous-release' };
const BEFORE_OBJECT_BUSY = SQLITE_MIGRATIONS.filter((m) => m.version < 9);


/** A store of the previous release (no object_busy) and an in-process DAV front end on it. */
function previousRelease(dir: string): { send: Send; store: SqliteStore } {
  const store = SqliteStore.open({ dataDir: dir, migrations: BEFORE_OBJECT_BUSY, release: PREVIOUS });
  const dav = buildDavServer(store, { ...DEFAULTS, data: dir, logLevel: 'silent' }, pino({ level: 'silent' }));
  const send: Send = async (method, target, body = '', headers = {}) => {
    const { response } = await dav.handle({ method, target, headers: { authorization: AUTH, ...headers }, body: Buffer.from(body), requestId: 't', clientAddress: '127.0.0.1' });
    return { status: response.status, text: typeof response.body === 'string' ? response.body : Buffer.from(response.body ?? new Uint8Array()).toString() };
  };
  return { send, store };
}

/** The compatibility triggers of 0009 (the time tree of 0014 has triggers of its own, which stay). */
function triggers(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'object_busy%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  } finally {
    db.close();
  }
}

void describe('object_busy contract on SQLite', () => {
  void it('drops the triggers only once no live node needs them, and the write path keeps object_busy exact', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'almanac-contract-e2e-'));
    const control = mkdtempSync(join(tmpdir(), 'almanac-contract-control-'));
    const file = join(dir, DATABASE_FILE);
    try {
      // The same calendars in the database that migrates and in one that never gets object_busy.
      const previous = [previousRelease(dir), previousRelease(control)];
      for (const { send, store } of previous) {
        await store.createUser({ name: 'alice', email: null, displayName: null, passwordHash: await hashPassword('pw') });
        await seed(send);
      }
      await previous[0]!.store.close();
      const reference = previous[1]!;

      const rehearsal = await cli(['migrate', 'rehearse', '--load-rate', '20', '--lock-budget', '60000', '--data', dir]);
      assert.equal(rehearsal.code, 0, rehearsal.stderr);
      assert.match(rehearsal.stdout, /0013-drop-object-busy-triggers +contract/u, 'the rehearsal ran the contract step');
      const expected = await cli(['release', 'expect', currentReleaseIdentity().version, '--approved-by', 'ops', '--data', dir]);
      assert.equal(expected.code, 0, expected.stderr);

      const app = await startAlmanac({ ...DEFAULTS, data: dir, port: 0, logLevel: 'silent' }, pino({ level: 'silent' }));
      try {
        assert.ok(app.backfill);
        await app.backfill.finished;
        const send: Send = async (method, target, body = '', headers = {}) => {
          const response = await fetch(new URL(target, app.url), { method, headers: { authorization: AUTH, ...headers }, ...(body === '' ? {} : { body }) });
          return { status: response.status, text: await response.text() };
        };
        const raw = new Database(file);
        try {
          for (let i = 0; i < 100 && liveNodes(raw, Date.now() - 60_000).length === 0; i++) await sleep(50);
          const [own] = liveNodes(raw, Date.now() - 60_000);
          assert.equal(own?.knownMigration, 14, 'the serving node records the highest migration of its code in place when it started (the expand 0014 ran, the contract 0013 is pending)');
          assert.match((await cli(['release', 'status', '--data', dir])).stdout, new RegExp(`pid ${process.pid}: almanac .*, knows migration 14\\)`, 'u'));

          // A node of the previous release is still registered: it knows nothing of known_migration.
          heartbeat(raw, { ...PREVIOUS, id: 'old-node', host: 'old-host', pid: 4242, startedAt: Date.now(), heartbeatAt: Date.now() });
          const refused = await cli(['migrate', 'contract', '--data', dir]);
          assert.equal(refused.code, 1);
          assert.match(refused.stderr, /13-drop-object-busy-triggers is safe once every live node knows migration 12; live node\(s\) still need the old shape: old-host pid 4242 \(almanac 0\.0\.1/u);
          assert.doesNotMatch(refused.stderr, new RegExp(`pid ${process.pid}`, 'u'), 'the node of this release is not named');
          assert.equal(triggers(file).length, 3, 'nothing was dropped');
          forgetNode(raw, 'old-node');
        } finally {
          raw.close();
        }

        const before = await freeBusy(send);
        assert.deepEqual(before, await freeBusy(reference.send), 'same answers before the contract');
        const contracted = await cli(['migrate', 'contract', '--data', dir]);
        assert.equal(contracted.code, 0, contracted.stderr);
        assert.match(contracted.stdout, /13-drop-object-busy-triggers: applied, write lock held [\d.]+ ms/u);
        assert.deepEqual(triggers(file), [], 'the compatibility triggers are gone');
        assert.equal(existsSync(announcementFile(file)), false, 'the step announced itself only while it ran');
        assert.deepEqual(await freeBusy(send), before, 'same answers right after the contract');
        assert.match((await cli(['migrate', 'contract', '--data', dir])).stdout, /no contract migration is pending/u);

        await writeAndCheckAfterContract({ send, store: app.store }, reference, () => verifySqliteObjectBusy(file), before);
      } finally {
        await app.stop();
        await reference.store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(control, { recursive: true, force: true });
    }
  });
});
