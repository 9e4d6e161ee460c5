// `almanac backup FILE` (online and consistent while the server serves, one VACUUM INTO snapshot)
// and `almanac restore FILE` (only into a folder no server is using; writes a new store epoch so
// clients resync fully instead of trusting tokens from after the backup point).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DataDirInUse, restoreBackup } from '../store/sqlite/data-dir.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import type { CliIo } from './io.ts';
import { addStoreOptions, type Run } from './run.ts';
import { storeConfig, withStore, type StoreOptions } from './store.ts';

export async function backup(file: string, options: StoreOptions & { readonly force?: boolean }, io: CliIo): Promise<number> {
  const target = resolve(file);
  if (existsSync(target) && options.force !== true) throw new CliError(ExitCode.alreadyExists, `${target} exists; use --force to overwrite it`);
  await withStore(options, io, async (store) => {
    if (!(store instanceof SqliteStore)) throw new CliError(ExitCode.usage, 'backup copies SQLite stores; back up PostgreSQL with pg_dump');
    await store.backup(target);
  });
  io.stdout(`backed up to ${target}\n`);
  return ExitCode.ok;
}

export function restore(file: string, options: StoreOptions, io: CliIo): Promise<number> {
  const config = storeConfig(options, io);
  if (config.database !== '') throw new CliError(ExitCode.usage, 'restore replaces a SQLite data folder; restore PostgreSQL with pg_restore');
  const source = resolve(file);
  if (!existsSync(source)) throw new CliError(ExitCode.notFound, `no backup file ${source}`);
  try {
    const { epoch } = restoreBackup(config.data, source);
    io.stdout(`restored ${source} into ${config.data} (new store epoch ${epoch}: clients will resync)\n`);
  } catch (error) {
    if (error instanceof DataDirInUse) throw new CliError(ExitCode.failure, error.message);
    throw error;
  }
  // Opening applies the migrations a backup from an older release may lack.
  return withStore(options, io, () => Promise.resolve(ExitCode.ok));
}

export function registerBackupCommands(program: Command, io: CliIo, run: Run): void {
  addStoreOptions(
    program
      .command('backup')
      .description('write a consistent copy of the database to FILE (safe while the server runs)')
      .argument('<file>', 'where to write the copy')
      .option('--force', 'overwrite FILE if it exists'),
  ).action((file: string, options: StoreOptions & { force?: boolean }) => run(() => backup(file, options, io)));

  addStoreOptions(
    program
      .command('restore')
      .description('replace the database with a backup (stop the server first); clients then resync fully')
      .argument('<file>', 'a file written by almanac backup'),
  ).action((file: string, options: StoreOptions) => run(() => restore(file, options, io)));
}
