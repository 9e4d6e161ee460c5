// A process that runs the fixture backfill in the background the way a serving node does, printing
// one JSON line per batch, so tests can kill -9 it mid-run or pause it from another process.
// Usage: node backfill-child.ts DATA_DIR NODE_ID PER_ROW_MS
import { BackfillRunner } from '../../src/store/sqlite/backfill-runner.ts';
import { FIXTURE_MIGRATIONS, openDatabase } from './backfill-fixture.ts';
import { CHILD_RUNNER_SETTINGS, setPerRowMs } from './items-backfill.ts';

const [dir, node, perRow] = process.argv.slice(2);
if (dir === undefined || node === undefined) throw new Error('usage: backfill-child.ts DATA_DIR NODE_ID PER_ROW_MS');
setPerRowMs(Number(perRow ?? '0'));
const db = openDatabase(dir);
const runner = new BackfillRunner({
  db,
  migrations: FIXTURE_MIGRATIONS,
  node,
  ...CHILD_RUNNER_SETTINGS,
});
const summary = await runner.run();
process.stdout.write(`${JSON.stringify({ kind: 'exit', completed: summary.completed })}\n`);
db.close();
