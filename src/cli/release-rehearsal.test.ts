// The release flow at the command line (DESIGN.md §6): a release that changes the schema cannot be
// expected before a passing rehearsal of its migration set on this database; `release status` shows
// the rehearsal; contract steps run only by command and only when nothing blocks them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { currentReleaseIdentity } from '../release/identity.ts';
import { SQLITE_MIGRATIONS } from '../store/sqlite/migrations/index.ts';
import type { SqliteMigration } from '../store/sqlite/migrator.ts';
import { recordRehearsal } from '../store/sqlite/rehearsals.ts';
import { heartbeat, recordCurrentRelease } from '../store/sqlite/release-state.ts';
import { DATABASE_FILE, SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { cli } from '../../test/support/cli.ts';
import { contractBlockers } from './migrate-contract.ts';


const OLD = { version: '0.0.1', migrationHash: 'previous-release' };

void describe('rehearsed releases', () => {
  void it('refuses `release expect` until a passing rehearsal of the migration set exists, then shows it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'almanac-rehearsed-'));
    try {
      const earlier = SqliteStore.open({ dataDir: dir, migrations: SQLITE_MIGRATIONS.filter((m) => m.version < 9), release: OLD });
      await earlier.close();
      const own = currentReleaseIdentity();
      const refused = await cli(['release', 'expect', own.version, '--approved-by', 'ops', '--data', dir]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /never rehearsed on this database; run `almanac migrate rehearse`/u);

      // A generous budget: this test is about the gate, not timings (those are in bench/).
      const rehearsal = await cli(['migrate', 'rehearse', '--load-rate', '20', '--lock-budget', '60000', '--data', dir]);
      assert.equal(rehearsal.code, 0, rehearsal.stderr);
      assert.match(rehearsal.stdout, /0010-object-busy-backfill +backfill/u);
      assert.match(rehearsal.stdout, /longest lock: [\d.]+ ms \(budget 60000 ms\)\n.*\nPASSED/u);

      const accepted = await cli(['release', 'expect', own.version, '--approved-by', 'ops', '--data', dir]);
      assert.equal(accepted.code, 0, accepted.stderr);
      const status = await cli(['release', 'status', '--json', '--data', dir]);
      const parsed = JSON.parse(status.stdout) as { rehearsal: { passed: boolean } | null; rehearsalProblem: string | null };
      assert.equal(parsed.rehearsal?.passed, true);
      assert.equal(parsed.rehearsalProblem, null);
      assert.match((await cli(['release', 'status', '--data', dir])).stdout, /rehearsal: +passed at/u);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void it('runs a contract step only when no live node needs the old shape and its rehearsal included it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'almanac-contract-'));
    try {
      const drop: SqliteMigration = { version: 950, name: 'drop-legacy', phase: 'contract', sql: 'DROP TABLE legacy;' };
      const own = currentReleaseIdentity();
      const db = new Database(join(dir, DATABASE_FILE));
      db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, phase TEXT NOT NULL, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT');
      db.exec('CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT');
      db.exec(SQLITE_MIGRATIONS.find((m) => m.name === 'nodes')?.sql ?? '');
      recordCurrentRelease(db, OLD);
      heartbeat(db, { ...OLD, id: 'old-node', host: 'h', pid: 1, startedAt: Date.now(), heartbeatAt: Date.now() });
      const migrations = [drop];
      const blocked = contractBlockers(db, migrations, own, Date.now()).blockers.join('\n');
      assert.match(blocked, /database runs release 0\.0\.1, not this one/u);
      assert.match(blocked, /950-drop-legacy is safe once every live node knows migration 950; live node\(s\) still need the old shape: h pid 1 \(almanac 0\.0\.1, records no known migration/u);
      assert.match(blocked, /never rehearsed/u);

      recordCurrentRelease(db, own);
      db.prepare('DELETE FROM nodes').run();
      recordRehearsal(db, { migrationHash: own.migrationHash, version: own.version, passed: true, dataBytes: 1e9, objectRows: 0, longestLockMs: 1, estimatedMs: 1, report: JSON.stringify({ steps: [] }), createdAt: Date.now() });
      assert.match(contractBlockers(db, migrations, own, Date.now()).blockers.join('\n'), /did not include 950-drop-legacy/u);
      recordRehearsal(db, { migrationHash: own.migrationHash, version: own.version, passed: true, dataBytes: 1e9, objectRows: 0, longestLockMs: 1, estimatedMs: 1, report: JSON.stringify({ steps: [{ version: 950 }] }), createdAt: Date.now() + 1 });
      assert.deepEqual(contractBlockers(db, migrations, own, Date.now() + 2).blockers, []);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
