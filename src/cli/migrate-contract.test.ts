// The contract gate (`almanac migrate contract`) on a real SQLite database: a contract step declares
// the migration version live nodes must know (safeOnceNodesKnow); the gate refuses while a live node
// knows less — or records nothing, as a node of an earlier release does — and names it, ignores nodes
// that stopped beating, and passes once every live node knows the version.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { currentReleaseIdentity } from '../release/identity.ts';
import { SQLITE_MIGRATIONS } from '../store/sqlite/migrations/index.ts';
import { knownMigration } from '../store/sqlite/migrator.ts';
import { recordRehearsal } from '../store/sqlite/rehearsals.ts';
import { heartbeat, liveNodes } from '../store/sqlite/release-state.ts';
import { DATABASE_FILE, SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { contractBlockers, neededKnowledge } from './migrate-contract.ts';

const own = currentReleaseIdentity();
const node = (id: string, knownMigration: number | undefined, heartbeatAt = Date.now()) => ({
  ...own,
  id,
  host: `host-${id}`,
  pid: 100,
  startedAt: heartbeatAt,
  heartbeatAt,
  ...(knownMigration === undefined ? {} : { knownMigration }),
});

async function withDatabase(migrations: typeof SQLITE_MIGRATIONS, work: (db: Database.Database) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'almanac-contract-gate-'));
  try {
    await SqliteStore.open({ dataDir: dir, migrations, release: own }).close();
    const db = new Database(join(dir, DATABASE_FILE));
    try {
      work(db);
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void describe('contract gate', () => {
  void it('refuses while a live node knows less than the step declares, naming it, and passes once all know it', async () => {
    const contract = SQLITE_MIGRATIONS.find((m) => m.phase === 'contract');
    assert.equal(contract?.safeOnceNodesKnow, 12, 'the shipped contract step declares what it needs');
    await withDatabase(SQLITE_MIGRATIONS.filter((m) => m.phase !== 'contract'), (db) => {
      recordRehearsal(db, { migrationHash: own.migrationHash, version: own.version, passed: true, dataBytes: 1e9, objectRows: 0, longestLockMs: 1, estimatedMs: 1, report: JSON.stringify({ steps: [{ version: 13 }] }), createdAt: Date.now() });
      heartbeat(db, node('current', 13));
      heartbeat(db, node('behind', 11));
      heartbeat(db, node('earlier', undefined));
      heartbeat(db, node('gone', undefined, Date.now() - 10 * 60_000));
      const blocked = contractBlockers(db, SQLITE_MIGRATIONS, own, Date.now()).blockers;
      assert.equal(blocked.length, 1, blocked.join('\n'));
      assert.match(blocked[0]!, /^13-drop-object-busy-triggers is safe once every live node knows migration 12; live node\(s\) still need the old shape: /u);
      assert.match(blocked[0]!, /host-behind pid 100 \(almanac [^,]+, knows migrations up to 11\)/u);
      assert.match(blocked[0]!, /host-earlier pid 100 \(almanac [^,]+, records no known migration: an earlier release\)/u);
      assert.doesNotMatch(blocked[0]!, /host-current|host-gone/u, 'neither a node that knows enough nor one that stopped beating is named');

      heartbeat(db, node('behind', 12)); // upgraded: its code knows the version the step needs
      db.prepare("DELETE FROM nodes WHERE id = 'earlier'").run(); // stopped cleanly
      assert.deepEqual(contractBlockers(db, SQLITE_MIGRATIONS, own, Date.now()).blockers, []);
    });
  });

  void it('a step without a declaration needs every live node to know the step itself', () => {
    assert.equal(neededKnowledge({ version: 20, name: 'x', phase: 'contract' }), 20);
    assert.equal(neededKnowledge({ version: 20, name: 'x', phase: 'contract', safeOnceNodesKnow: 15 }), 15);
    // What a node records: the highest of its migrations that were in place when it started.
    assert.equal(knownMigration([{ version: 1 }, { version: 2 }, { version: 3 }], [3]), 2);
    assert.equal(knownMigration([{ version: 1 }, { version: 2 }, { version: 3 }], [2]), 3);
  });

  void it("keeps heartbeats working on the previous release's schema, where the column does not exist", async () => {
    await withDatabase(SQLITE_MIGRATIONS.filter((m) => m.version < 12), (db) => {
      assert.equal(heartbeat(db, node('n', 13)), true);
      assert.deepEqual(liveNodes(db, 0).map((n) => [n.id, n.knownMigration]), [['n', null]]);
    });
  });

  void it('a store records the highest migration of its code that it found in place when it started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'almanac-known-'));
    const fresh = mkdtempSync(join(tmpdir(), 'almanac-known-fresh-'));
    const knownBy = async (store: SqliteStore, id: string): Promise<number | null | undefined> => {
      await store.heartbeat(node(id, undefined));
      const known = store.liveNodes(0).find((n) => n.id === id)?.knownMigration;
      await store.close();
      return known;
    };
    try {
      const previous = { version: '0.0.1', migrationHash: 'previous-release' };
      await SqliteStore.open({ dataDir: dir, migrations: SQLITE_MIGRATIONS.filter((m) => m.version < 12), release: previous }).close();
      // Not expected: no DDL, it serves on the schema it found, which has no column to record in: the
      // node counts as an earlier release's.
      assert.equal(await knownBy(SqliteStore.open({ dataDir: dir, release: own }), 'unexpected'), null);
      const expecting = SqliteStore.open({ dataDir: dir, migrations: SQLITE_MIGRATIONS.filter((m) => m.version < 12), release: previous });
      expecting.expectRelease({ ...own, windowFrom: null, windowUntil: null, approvedBy: 't', reason: null, createdAt: Date.now() });
      await expecting.close();
      const raw = new Database(join(dir, DATABASE_FILE));
      recordRehearsal(raw, { migrationHash: own.migrationHash, version: own.version, passed: true, dataBytes: 1e9, objectRows: 0, longestLockMs: 1, estimatedMs: 1, report: '{"steps":[]}', createdAt: Date.now() });
      raw.close();
      // Expected: the expands 0012 and 0014 run at start; the contract step 0013 waits for its command
      // (and the backfill 0015 for the runner).
      assert.equal(await knownBy(SqliteStore.open({ dataDir: dir, release: own }), 'expected'), 14);
      assert.equal(await knownBy(SqliteStore.open({ dataDir: fresh, release: own }), 'fresh'), 15, 'a new database gets every migration');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});
