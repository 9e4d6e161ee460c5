// Ownership of a SQLite data folder by a running server (a pid file), and restoring a backup into a
// folder no server is using: copying over a live database with open WAL files would corrupt it.
// A restore writes a new store epoch, so every sync token issued before it is refused and clients
// resync fully instead of deleting what they added after the backup. Must not import DAV or HTTP.
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../errors.ts';
import { DATABASE_FILE } from './sqlite-store.ts';

const PID_FILE = 'almanac.pid';

export class DataDirInUse extends StoreError {
  override readonly name = 'DataDirInUse';
}

/** Whether a process with this id exists on this host (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function pidFileOwner(dataDir: string): number | undefined {
  const file = join(dataDir, PID_FILE);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && processAlive(pid) ? pid : undefined;
}

/** The pid of a live server using the folder, if any (a stale pid file is ignored). */
export function serverUsing(dataDir: string): number | undefined {
  const pid = pidFileOwner(dataDir);
  return pid !== process.pid ? pid : undefined;
}

/**
 * Marks the folder as served by this process; the returned function releases it. A worker of a
 * supervisor passes the supervisor's pid: the supervisor holds the folder for all its workers (an
 * old and a new one overlap during a restart), and the worker refuses a folder held by anyone else.
 */
export function claimDataDir(dataDir: string, supervisorPid?: number): () => void {
  mkdirSync(dataDir, { recursive: true });
  if (supervisorPid !== undefined) {
    const holder = pidFileOwner(dataDir);
    if (holder !== supervisorPid) {
      throw new DataDirInUse(`${dataDir} is not held by this worker's supervisor (pid ${supervisorPid}) but by ${holder === undefined ? 'nobody' : `pid ${holder}`}`);
    }
    return () => undefined;
  }
  const other = serverUsing(dataDir);
  if (other !== undefined) throw new DataDirInUse(`another Almanac server (pid ${other}) is using ${dataDir}`);
  const file = join(dataDir, PID_FILE);
  writeFileSync(file, `${process.pid}\n`);
  return () => {
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
    } catch {
      // Already gone: nothing to release.
    }
  };
}

/** Replaces the folder's database with a backup and gives it a new epoch. */
export function restoreBackup(dataDir: string, backupFile: string): { epoch: string } {
  const server = serverUsing(dataDir);
  if (server !== undefined) throw new DataDirInUse(`stop the server (pid ${server}) before restoring into ${dataDir}`);
  const check = new Database(backupFile, { readonly: true, fileMustExist: true });
  try {
    const integrity = check.pragma('quick_check', { simple: true });
    if (integrity !== 'ok') throw new StoreError(`${backupFile} is damaged: ${String(integrity)}`);
    const meta = check.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'store_meta'").get();
    if (meta === undefined) throw new StoreError(`${backupFile} is not an Almanac database`);
  } finally {
    check.close();
  }
  mkdirSync(dataDir, { recursive: true });
  const target = join(dataDir, DATABASE_FILE);
  const staging = `${target}.restoring`;
  copyFileSync(backupFile, staging);
  const epoch = randomUUID();
  const restored = new Database(staging);
  try {
    restored.prepare("INSERT INTO store_meta (key, value) VALUES ('epoch', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(epoch);
  } finally {
    restored.close();
  }
  // The old database's WAL must not be replayed onto the restored file.
  rmSync(`${target}-wal`, { force: true });
  rmSync(`${target}-shm`, { force: true });
  renameSync(staging, target);
  return { epoch };
}
