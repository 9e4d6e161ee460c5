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
  });

  void it("keeps heartbeats working on the previous release's schema, where the column does not exist", async () => {
    await withDatabase(SQLITE_MIGRATIONS.filter((m) => m.version < 12), (db) => {
      assert.equal(heartbeat(db, node('n', 13)), true);
      assert.deepEqual(liveNodes(db, 0).map((n) => [n.id, n.knownMigration]), [['n', null]]);
    });
  });

  void it('a store records the highest migration its own code knows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'almanac-known-'));
    try {
      // A store of an older release (its set ends at 12) and the current one, on one database.
      const older = SqliteStore.open({ dataDir: dir, release: own, migrations: SQLITE_MIGRATIONS.filter((m) => m.version <= 12) });
      await older.heartbeat(node('older', undefined));
      await older.close();
      const current = SqliteStore.open({ dataDir: dir, release: own });
      await current.heartbeat(node('current', undefined));
      assert.deepEqual(current.liveNodes(0).map((n) => [n.id, n.knownMigration]).sort(), [['current', Math.max(...SQLITE_MIGRATIONS.map((m) => m.version))], ['older', 12]]);
      await current.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
