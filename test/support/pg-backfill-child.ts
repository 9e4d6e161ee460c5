// A process that runs the fixture backfill on PostgreSQL in the background the way a serving node
// does, printing one JSON line per batch, so tests can kill -9 it mid-run.
// Usage: node pg-backfill-child.ts URL NODE_ID PER_ROW_MS
import { backfillConnection, PostgresBackfillRunner } from '../../src/store/postgres/backfill.ts';
import { PG_FIXTURE_MIGRATIONS, setPerRowMs } from './pg-backfill-fixture.ts';

const [url, node, perRow] = process.argv.slice(2);
if (url === undefined || node === undefined) throw new Error('usage: pg-backfill-child.ts URL NODE_ID PER_ROW_MS');
setPerRowMs(Number(perRow ?? '0'));
const client = await backfillConnection(url);
const runner = new PostgresBackfillRunner(client, PG_FIXTURE_MIGRATIONS, {
  node,
  initialBatchSize: 20,
  maxBatchSize: 50,
  reportEvery: 1,
  pollMs: 50,
  staleAfterMs: 0,
  onEvent: (event) => {
    if ('progress' in event) process.stdout.write(`${JSON.stringify({ kind: event.kind, done: event.progress.rowsDone, lastKey: event.progress.lastKey })}\n`);
  },
});
const summary = await runner.run();
process.stdout.write(`${JSON.stringify({ kind: 'exit', completed: summary.completed })}\n`);
await client.end();
