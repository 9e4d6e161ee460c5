// A process that runs the fixture backfill in the background the way a serving node does, printing
// one JSON line per batch, so tests can kill -9 it mid-run or pause it from another process.
// Usage: node backfill-child.ts DATA_DIR NODE_ID PER_ROW_MS
import { BackfillRunner } from '../../src/store/sqlite/backfill-runner.ts';
import { FIXTURE_MIGRATIONS, openDatabase, setPerRowMs } from './backfill-fixture.ts';

const [dir, node, perRow] = process.argv.slice(2);
if (dir === undefined || node === undefined) throw new Error('usage: backfill-child.ts DATA_DIR NODE_ID PER_ROW_MS');
setPerRowMs(Number(perRow ?? '0'));
const db = openDatabase(dir);
const runner = new BackfillRunner({
  db,
  migrations: FIXTURE_MIGRATIONS,
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
db.close();
