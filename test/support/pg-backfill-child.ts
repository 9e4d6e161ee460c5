// A process that runs the fixture backfill on PostgreSQL in the background the way a serving node
// does, printing one JSON line per batch, so tests can kill -9 it mid-run.
// Usage: node pg-backfill-child.ts URL NODE_ID PER_ROW_MS
import { backfillConnection, PostgresBackfillRunner } from '../../src/store/postgres/backfill.ts';
import { PG_FIXTURE_MIGRATIONS } from './pg-backfill-fixture.ts';
import { CHILD_RUNNER_SETTINGS, setPerRowMs } from './items-backfill.ts';

const [url, node, perRow] = process.argv.slice(2);
if (url === undefined || node === undefined) throw new Error('usage: pg-backfill-child.ts URL NODE_ID PER_ROW_MS');
setPerRowMs(Number(perRow ?? '0'));
const client = await backfillConnection(url);
const runner = new PostgresBackfillRunner(client, PG_FIXTURE_MIGRATIONS, {
  node,
  ...CHILD_RUNNER_SETTINGS,
});
const summary = await runner.run();
process.stdout.write(`${JSON.stringify({ kind: 'exit', completed: summary.completed })}\n`);
await client.end();
