// The contract step of the reference migration on PostgreSQL, end to end as an operator runs it: a
// database of the previous release, `migrate rehearse` (on a scratch copy; it includes the contract
// step 0009), `release expect`, this release serving (expand at start, backfill in the background),
// then `migrate contract --database` — refused while a live node of the previous release is
// registered, naming it, and run once it is gone. Afterwards the object_busy trigger and its function
// are gone and the write path alone keeps every row exact through puts, updates, deletes, moves,
// copies, overwrites, a calendar delete, a home delete and a user delete, with free-busy answers identical to those
// of a database that never had object_busy. And without the trigger, puts racing the delete of the
// home above their calendar leave no row behind (the delete locks the whole subtree first).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import pino from 'pino';
import { hashPassword } from '../../src/auth/passwords.ts';
import { DEFAULTS } from '../../src/config/config.ts';
import { buildDavServer, startAlmanac } from '../../src/http/app.ts';
import { currentReleaseIdentity } from '../../src/release/identity.ts';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/migrations/index.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { forgetNode, heartbeat, liveNodes } from '../../src/store/postgres/release-state.ts';
import { cli } from '../support/cli.ts';
import { freeBusy, seed, verifyPostgresObjectBusy, writeAndCheckAfterContract, type Send } from '../support/object-busy-scenario.ts';
import { skipWithoutPostgres, TestPostgres } from '../support/postgres.ts';

const AUTH = `Basic ${Buffer.from('alice:pw').toString('base64')}`;
const PREVIOUS = { version: '0.0.1', migrationHash: 'previous-release' };
const BEFORE_OBJECT_BUSY = POSTGRES_MIGRATIONS.filter((m) => m.version < 5);

let cluster: TestPostgres | undefined;
after(async () => {
  await cluster?.stop();
});


async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A store of the previous release (no object_busy) and an in-process DAV front end on it. */
async function previousRelease(url: string, dir: string): Promise<{ send: Send; store: PostgresStore }> {
  const store = await PostgresStore.open({ url, migrations: BEFORE_OBJECT_BUSY, release: PREVIOUS });
  const dav = buildDavServer(store, { ...DEFAULTS, data: dir, database: url, logLevel: 'silent' }, pino({ level: 'silent' }));
  const send: Send = async (method, target, body = '', headers = {}) => {
    const { response } = await dav.handle({ method, target, headers: { authorization: AUTH, ...headers }, body: Buffer.from(body), requestId: 't', clientAddress: '127.0.0.1' });
    return { status: response.status, text: typeof response.body === 'string' ? response.body : Buffer.from(response.body ?? new Uint8Array()).toString() };
  };
  return { send, store };
}

const compatibility = (url: string): Promise<{ triggers: number; functionPresent: boolean }> =>
  withClient(url, async (client) => ({
    triggers: Number((await client.query<{ n: string }>("SELECT count(*) AS n FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = 'objects'::regclass")).rows[0]?.n),
    functionPresent: (await client.query<{ present: boolean }>("SELECT to_regproc('object_busy_sync') IS NOT NULL AS present")).rows[0]?.present === true,
  }));

void describe('object_busy contract on PostgreSQL', { skip: skipWithoutPostgres() }, () => {
  void it('drops the trigger only once no live node needs it, and the write path keeps object_busy exact', { timeout: 180_000 }, async () => {
    cluster ??= await TestPostgres.start();
    const url = await cluster.createDatabase('contract');
    const controlUrl = await cluster.createDatabase('contract_control');
    const dir = mkdtempSync(join(tmpdir(), 'almanac-pg-contract-'));
    try {
      // The same calendars in the database that migrates and in one that never gets object_busy.
      const previous = [await previousRelease(url, dir), await previousRelease(controlUrl, dir)];
      for (const { send, store } of previous) {
        await store.createUser({ name: 'alice', email: null, displayName: null, passwordHash: await hashPassword('pw') });
        await seed(send);
      }
      await previous[0]!.store.close();
      const reference = previous[1]!;

      const rehearsal = await cli(['migrate', 'rehearse', '--load-rate', '20', '--lock-budget', '60000', '--database', url]);
      assert.equal(rehearsal.code, 0, rehearsal.stderr);
      assert.match(rehearsal.stdout, /0009-drop-object-busy-trigger +contract/u, 'the rehearsal ran the contract step on its copy');
      assert.deepEqual(await compatibility(url), { triggers: 0, functionPresent: false }, 'the live database is still on the previous schema');
      const expected = await cli(['release', 'expect', currentReleaseIdentity().version, '--approved-by', 'ops', '--database', url]);
      assert.equal(expected.code, 0, expected.stderr);

      const app = await startAlmanac({ ...DEFAULTS, data: dir, database: url, port: 0, logLevel: 'silent' }, pino({ level: 'silent' }));
      try {
        await app.backfill?.finished;
        assert.deepEqual(await compatibility(url), { triggers: 1, functionPresent: true }, 'the expand created the trigger');
        const send: Send = async (method, target, body = '', headers = {}) => {
          const response = await fetch(new URL(target, app.url), { method, headers: { authorization: AUTH, ...headers }, ...(body === '' ? {} : { body }) });
          return { status: response.status, text: await response.text() };
        };
        await withClient(url, async (client) => {
          for (let i = 0; i < 100 && (await liveNodes(client, Date.now() - 60_000)).length === 0; i++) await sleep(50);
          const [own] = await liveNodes(client, Date.now() - 60_000);
          assert.equal(own?.knownMigration, 10, 'the serving node records the highest migration of its code in place when it started (the expand 0010 ran, the contract 0009 is pending)');
          // A node of the previous release is still registered: it knows nothing of known_migration.
          await heartbeat(client, { ...PREVIOUS, id: 'old-node', host: 'old-host', pid: 4242, startedAt: Date.now(), heartbeatAt: Date.now() });
        });
        const refused = await cli(['migrate', 'contract', '--database', url]);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /9-drop-object-busy-trigger is safe once every live node knows migration 8; live node\(s\) still need the old shape: old-host pid 4242 \(almanac 0\.0\.1/u);
        assert.doesNotMatch(refused.stderr, new RegExp(`pid ${process.pid}`, 'u'), 'the node of this release is not named');
        assert.deepEqual(await compatibility(url), { triggers: 1, functionPresent: true }, 'nothing was dropped');
        await withClient(url, (client) => forgetNode(client, 'old-node'));

        const before = await freeBusy(send);
        assert.deepEqual(before, await freeBusy(reference.send), 'same answers before the contract');
        const contracted = await cli(['migrate', 'contract', '--database', url]);
        assert.equal(contracted.code, 0, contracted.stderr);
        assert.match(contracted.stdout, /9-drop-object-busy-trigger: applied in [\d.]+ ms/u);
        assert.deepEqual(await compatibility(url), { triggers: 0, functionPresent: false }, 'the trigger and its function are gone');
        assert.deepEqual(await freeBusy(send), before, 'same answers right after the contract');
        assert.match((await cli(['migrate', 'contract', '--database', url])).stdout, /no contract migration is pending/u);

        await writeAndCheckAfterContract({ send, store: app.store }, reference, () => verifyPostgresObjectBusy(url), before);
      } finally {
        await app.stop();
        await reference.store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void it('leaves no object_busy row behind when puts race the delete of the home above their calendar', { timeout: 120_000 }, async () => {
    cluster ??= await TestPostgres.start();
    const url = await cluster.createDatabase('contract_race');
    const store = await PostgresStore.open({ url, release: currentReleaseIdentity() });
    try {
      assert.deepEqual(await compatibility(url), { triggers: 0, functionPresent: false }, 'a new database gets the contracted schema');
      let landed = 0;
      for (let round = 0; round < 15; round++) {
        const user = await store.createUser({ name: `u${round}`, email: null, displayName: null, passwordHash: null });
        await store.ensureHomes(user.id, [{ path: `/calendars/u${round}/`, kind: 'calendar-home', children: [{ name: 'default', kind: 'calendar', properties: [] }] }]);
        const home = (await store.getCollection(`/calendars/u${round}/`))!;
        const calendar = (await store.getCollection(`/calendars/u${round}/default/`))!;
        const puts = Array.from({ length: 6 }, (_, i) =>
          store.putObject({ collectionId: calendar.id, name: `e${i}.ics`, body: Buffer.from(`event ${round} ${i}`), contentType: 'text/calendar', metadata: { uid: `e${i}`, component: 'VEVENT', mayBeBusy: true } }),
        );
        const results = await Promise.allSettled([...puts, store.deleteCollection(home.id)]);
        assert.equal(results.at(-1)?.status, 'fulfilled', 'the delete went through');
        landed += results.slice(0, -1).filter((r) => r.status === 'fulfilled').length;
      }
      const check = await verifyPostgresObjectBusy(url);
      assert.deepEqual({ objects: check.objects, rows: check.rows, orphans: check.orphans }, { objects: 0, rows: 0, orphans: 0 }, `${landed} puts landed before their calendar went`);
    } finally {
      await store.close();
    }
  });
});
