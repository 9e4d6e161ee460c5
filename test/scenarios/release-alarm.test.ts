// What a node does when its release is not expected (DESIGN.md §6): on a schema it can serve, it
// serves without DDL and raises the alarm (fatal log line with the approving command, metric, reason
// in /readyz) while registered as a live node; on a schema too old for it, it never binds the port.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { DEFAULTS } from '../../src/config/config.ts';
import { startAlmanac, UnexpectedRelease } from '../../src/http/app.ts';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations/index.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';

function capture(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

void describe('unexpected release', () => {
  void it('serves on the schema it finds, runs no DDL, and raises the alarm everywhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'almanac-alarm-'));
    try {
      const earlier = SqliteStore.open({ dataDir: dir, release: { version: '0.0.1', migrationHash: 'previous' } });
      await earlier.close();
      const { logger, lines } = capture();
      const app = await startAlmanac({ ...DEFAULTS, data: dir, port: 0, logLevel: 'info' }, logger);
      try {
        const alarm = lines().find((l) => l.alarm === 'unexpected-release');
        assert.ok(alarm, 'a fatal alarm line was logged');
        assert.equal(alarm.level, 60);
        assert.match(String(alarm.msg), /almanac release expect \S+ --approved-by NAME/u);
        const ready = await fetch(new URL('/readyz', app.url));
        assert.equal(ready.status, 200);
        assert.match(((await ready.json()) as { reason: string }).reason, /not expected/u);
        assert.match(await (await fetch(new URL('/metrics', app.url))).text(), /almanac_release_unexpected 1/u);
        const observer = SqliteStore.open({ dataDir: dir });
        try {
          const nodes = observer.liveNodes(Date.now() - 60_000);
          assert.deepEqual(nodes.map((n) => n.pid), [process.pid], 'the serving node is in the registry');
        } finally {
          await observer.close();
        }
      } finally {
        await app.stop();
      }
      const observer = SqliteStore.open({ dataDir: dir });
      assert.deepEqual(observer.liveNodes(0), [], 'a clean stop leaves the registry');
      await observer.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void it('never binds the port when the schema is too old and it may not migrate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'almanac-alarm-'));
    try {
      const old = SqliteStore.open({ dataDir: dir, migrations: SQLITE_MIGRATIONS.slice(0, 2) });
      await old.close();
      await assert.rejects(startAlmanac({ ...DEFAULTS, data: dir, port: 0, logLevel: 'silent' }), UnexpectedRelease);
      const after = SqliteStore.open({ dataDir: dir, migrations: SQLITE_MIGRATIONS.slice(0, 2) });
      assert.deepEqual(after.releaseRecords().applied, [1, 2], 'no DDL ran');
      await after.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
