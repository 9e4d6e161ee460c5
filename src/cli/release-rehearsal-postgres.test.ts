// Rehearsed releases on PostgreSQL: `release expect` refuses a release whose migrations were never
// rehearsed on this database; `migrate rehearse --database` copies the live database into a scratch
// one, runs the pending expand and backfill steps there under load, records a passing report in the
// live database (which it leaves on its old schema) and drops the scratch database; then the release
// is accepted and `release status` shows the rehearsal.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { skipWithoutPostgres, TestPostgres } from '../../test/support/postgres.ts';
import { currentReleaseIdentity } from '../release/identity.ts';
import { POSTGRES_MIGRATIONS } from '../store/postgres/migrations/index.ts';
import { PostgresStore } from '../store/postgres/postgres-store.ts';
import { cli } from '../../test/support/cli.ts';

let cluster: TestPostgres | undefined;
after(async () => {
  await cluster?.stop();
});


async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Record<string, unknown>>(sql)).rows;
  } finally {
    await client.end();
  }
}

const OLD = { version: '0.0.1', migrationHash: 'previous-release' };

void describe('rehearsed releases on PostgreSQL', { skip: skipWithoutPostgres() }, () => {
  void it('refuses `release expect` until a rehearsal on a scratch copy passed, then shows it', { timeout: 120_000 }, async () => {
    cluster ??= await TestPostgres.start();
    const url = await cluster.createDatabase('rehearsed');
    const earlier = await PostgresStore.open({ url, release: OLD, migrations: POSTGRES_MIGRATIONS.filter((m) => m.version < 5) });
    const user = await earlier.createUser({ name: 'alice', email: null, displayName: null, passwordHash: null });
    await earlier.ensureHomes(user.id, [{ path: '/calendars/alice/', kind: 'calendar-home', children: [{ name: 'default', kind: 'calendar', properties: [] }] }]);
    const calendar = (await earlier.getCollection('/calendars/alice/default/'))!;
    for (let i = 0; i < 200; i++) await earlier.putObject({ collectionId: calendar.id, name: `e${i}.ics`, body: Buffer.from(`x${i}`), contentType: 'text/calendar', metadata: { uid: `u${i}` } });
    await earlier.close();

    const own = currentReleaseIdentity();
    const refused = await cli(['release', 'expect', own.version, '--approved-by', 'ops', '--database', url]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /never rehearsed on this database/u);

    // A generous budget: this test is about the gate and the copy, not timings.
    const rehearsal = await cli(['migrate', 'rehearse', '--load-rate', '20', '--lock-budget', '60000', '--database', url]);
    assert.equal(rehearsal.code, 0, rehearsal.stderr);
    assert.match(rehearsal.stdout, /on [\d.]+ MB, 200 objects/u);
    for (const step of ['0005-object-busy +expand', '0006-object-busy-index +expand', '0007-object-busy-backfill +backfill']) assert.match(rehearsal.stdout, new RegExp(step, 'u'));
    assert.match(rehearsal.stdout, /200 rows in \d+ batches/u);
    assert.match(rehearsal.stdout, /\nPASSED/u);
    assert.deepEqual(await query(url, 'SELECT max(version) AS v FROM schema_migrations'), [{ v: 4 }], 'the live database was not migrated');
    assert.deepEqual(await query(url, "SELECT datname FROM pg_database WHERE datname LIKE 'almanac_rehearsal_%'"), [], 'the scratch database was dropped');

    const accepted = await cli(['release', 'expect', own.version, '--approved-by', 'ops', '--database', url]);
    assert.equal(accepted.code, 0, accepted.stderr);
    const status = JSON.parse((await cli(['release', 'status', '--json', '--database', url])).stdout) as { rehearsal: { passed: boolean; objectRows: number } | null; rehearsalProblem: string | null };
    assert.equal(status.rehearsal?.passed, true);
    assert.equal(status.rehearsal.objectRows, 200);
    assert.equal(status.rehearsalProblem, null);
  });
});
