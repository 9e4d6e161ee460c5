// Runs `bench/run.ts` with Almanac on PostgreSQL: starts a throw-away cluster (the same one the tests
// use: initdb into a temporary folder, 127.0.0.1, fsync off), creates an empty database, passes it to
// the benchmark's Almanac through ALMANAC_DATABASE, and removes the cluster afterwards. Every flag is
// passed on: `node bench/with-postgres.ts --quick` is the PostgreSQL twin of `npm run bench -- --quick`.
// fsync=off makes commits cheaper than on a real server; compare with SQLite's figures knowing that.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TestPostgres } from '../test/support/postgres.ts';

const cluster = await TestPostgres.start();
let code: number | null;
try {
  const url = await cluster.createDatabase('bench');
  process.stderr.write(`bench on PostgreSQL ${url}\n`);
  const child = spawn(process.execPath, [fileURLToPath(new URL('./run.ts', import.meta.url)), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, ALMANAC_DATABASE: url },
  });
  code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
} finally {
  await cluster.stop();
}
process.exit(code ?? 1);
