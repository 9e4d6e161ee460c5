// An online, consistent copy of a live SQLite database, for `almanac backup` and the migration
// rehearsal. VACUUM INTO reads one snapshot in a single read transaction, which under WAL never
// blocks the server's writers. The backup API was used before: it restarts from the first page
// whenever another connection writes, so on a large database under steady writes (1M objects and a
// PUT every few hundred milliseconds) it never finished. Must not import DAV or HTTP.
import { renameSync, rmSync } from 'node:fs';
import type Database from 'better-sqlite3';

/** Copies db into file, replacing that file only once the copy is complete. */
export function copyOnline(db: Database.Database, file: string): void {
  const partial = `${file}.partial-${process.pid}`;
  rmSync(partial, { force: true });
  try {
    db.prepare('VACUUM INTO ?').run(partial);
    renameSync(partial, file);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
}
