// `almanac migrate-store --from sqlite:PATH --to postgres://…`: moves a deployment from its SQLite
// data folder into an empty PostgreSQL database, with progress, then verifies row counts and ETags.
// Stop the server first; start it afterwards with --database pointing at PostgreSQL.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { migrateSqliteToPostgres, MigrateStoreError } from '../store/migrate-store.ts';
import { isPostgresUrl } from '../store/open.ts';
import { DATABASE_FILE } from '../store/sqlite/sqlite-store.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import type { CliIo } from './io.ts';
import type { Run } from './run.ts';

export interface MigrateStoreOptions {
  readonly from: string;
  readonly to: string;
}

export async function migrateStore(options: MigrateStoreOptions, io: CliIo): Promise<number> {
  if (!options.from.startsWith('sqlite:')) throw new CliError(ExitCode.usage, '--from must be sqlite:PATH (the data folder, or its almanac.sqlite3 file)');
  if (!isPostgresUrl(options.to)) throw new CliError(ExitCode.usage, '--to must be a postgres:// URL');
  const path = resolve(options.from.slice('sqlite:'.length));
  if (!existsSync(path)) throw new CliError(ExitCode.notFound, `no SQLite store at ${path}`);
  const isFolder = statSync(path).isDirectory();
  const dataDir = isFolder ? path : resolve(path, '..');
  const file = isFolder ? join(path, DATABASE_FILE) : path;
  if (!existsSync(file)) throw new CliError(ExitCode.notFound, `no ${DATABASE_FILE} in ${path}`);
  try {
    const report = await migrateSqliteToPostgres(dataDir, file, options.to, (line) => io.stderr(`${line}\n`));
    const rows = report.tables.reduce((sum, t) => sum + t.rows, 0);
    io.stdout(`copied ${rows} rows into PostgreSQL and verified ${report.objectsVerified} objects; store epoch ${report.epoch} kept, so clients keep syncing incrementally\n`);
    io.stdout(`now start every node with --database ${redact(options.to)}\n`);
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof MigrateStoreError) throw new CliError(ExitCode.failure, error.message);
    throw error;
  }
}

/** The URL without its password, for printing. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://…';
  }
}

export function registerMigrateStoreCommand(program: Command, io: CliIo, run: Run): void {
  program
    .command('migrate-store')
    .description('copy a SQLite deployment into an empty PostgreSQL database and verify it (stop the server first)')
    .requiredOption('--from <sqlite:PATH>', 'the SQLite data folder, as sqlite:PATH')
    .requiredOption('--to <url>', 'the PostgreSQL database, postgres://…')
    .action((options: MigrateStoreOptions) => run(() => migrateStore(options, io)));
}
