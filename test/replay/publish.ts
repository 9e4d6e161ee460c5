// `npx node test/replay/publish.ts`: replays every client lifecycle against real server processes, on
// SQLite and on a throw-away PostgreSQL cluster (when its binaries are installed), and writes
// docs/compatibility.md; exits 1 when a step fails outside the known gaps (the page is still written).
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { postgresMissing, TestPostgres } from '../support/postgres.ts';
import { renderCompatibility, runAll, type ClientRun } from './compatibility.ts';
import { prepareMigrationInProgress } from './migration-state.ts';

const target = fileURLToPath(new URL('../../docs/compatibility.md', import.meta.url));
const sqlite = await runAll();
const migrating = await runAll(undefined, () => Promise.resolve({ prepare: prepareMigrationInProgress }));
let postgres: ClientRun[] | undefined;
if (postgresMissing() === undefined) {
  const cluster = await TestPostgres.start();
  try {
    postgres = await runAll(undefined, async () => ({ database: await cluster.createDatabase('replay') }));
  } finally {
    await cluster.stop();
  }
} else {
  console.log('PostgreSQL is not installed: the page shows SQLite only');
}
mkdirSync(fileURLToPath(new URL('../../docs/', import.meta.url)), { recursive: true });
writeFileSync(target, renderCompatibility({ sqlite, postgres, migrating }, new Date()));

let failing = 0;
for (const [store, runs] of [['SQLite', sqlite], ['PostgreSQL', postgres ?? []], ['SQLite mid-migration', migrating]] as const) {
  for (const run of runs) {
    const failed = run.results.filter((r) => !r.ok && r.step.gap === undefined);
    failing += failed.length;
    const gaps = run.results.filter((r) => !r.ok && r.step.gap !== undefined).length;
    console.log(`${store}, ${run.lifecycle.name}: ${run.results.filter((r) => r.ok).length}/${run.results.length} passed${gaps > 0 ? `, ${gaps} known gap(s)` : ''}`);
    for (const result of failed) console.log(`  FAIL ${result.step.title}: ${result.error ?? ''}`);
  }
}
console.log(`wrote ${target}`);
process.exitCode = failing > 0 ? 1 : 0;
