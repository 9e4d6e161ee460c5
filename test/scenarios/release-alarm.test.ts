// What a node does when its release is not expected (DESIGN.md §6): on a schema it can serve, it
// serves without DDL and raises the alarm (fatal log line with the approving command, metric, reason
// in /readyz) while registered as a live node; on a schema too old for it, it never binds the port.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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

/** A webhook receiver that records the JSON bodies POSTed to it. */
async function webhook(): Promise<{ server: Server; url: string; alarms: Record<string, unknown>[] }> {
  const alarms: Record<string, unknown>[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      alarms.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alarm`, alarms };
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`within 5 s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

void describe('unexpected release', () => {
  void it('serves on the schema it finds, runs no DDL, and raises the alarm everywhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'almanac-alarm-'));
    try {
      const earlier = SqliteStore.open({ dataDir: dir, release: { version: '0.0.1', migrationHash: 'previous' } });
      await earlier.close();
      const { logger, lines } = capture();
      const hook = await webhook();
      const app = await startAlmanac({ ...DEFAULTS, data: dir, port: 0, logLevel: 'info', alarmWebhook: hook.url }, logger);
      try {
        await eventually(() => hook.alarms.length > 0, 'the alarm webhook was called');
        assert.equal(hook.alarms[0]?.alarm, 'unexpected-release');
        assert.match(String(hook.alarms[0]?.reason), /not expected/u);
        assert.match(String(hook.alarms[0]?.resolve), /^almanac release expect \S+ --approved-by NAME$/u);
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
        hook.server.close();
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
      const hook = await webhook();
      try {
        await assert.rejects(startAlmanac({ ...DEFAULTS, data: dir, port: 0, logLevel: 'silent', alarmWebhook: hook.url }), UnexpectedRelease);
        assert.equal(hook.alarms.length, 1, 'the webhook heard of it before the node gave up');
        assert.match(String(hook.alarms[0]?.reason), /too old for this release/u);
      } finally {
        hook.server.close();
      }
      const after = SqliteStore.open({ dataDir: dir, migrations: SQLITE_MIGRATIONS.slice(0, 2) });
      assert.deepEqual(after.releaseRecords().applied, [1, 2], 'no DDL ran');
      await after.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
