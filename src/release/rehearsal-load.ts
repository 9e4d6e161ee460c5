// The synthetic client load of a rehearsal, run in a worker thread on the database copy: an
// open-loop stream at a fixed rate of listing reads and small writes (an object touched and its
// collection's sync position moved, as a PUT does), bounded in count and time. Each operation's
// latency counts from when it was due, so time spent waiting for the migration's lock shows.
// Must not import DAV or HTTP (it only speaks SQL to the copy).
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface LoadOptions {
  readonly file: string;
  readonly ratePerSecond: number;
  readonly writeShare: number;
  readonly maxMs: number;
}

export interface LoadReport {
  readonly requests: number;
  readonly writes: number;
  readonly errors: number;
  readonly latenciesMs: number[];
}

function run(options: LoadOptions): void {
  const db = new Database(options.file);
  db.pragma('busy_timeout = 2000');
  const collections = (db.prepare('SELECT id FROM collections WHERE object_count > 0 ORDER BY id').all() as { id: number }[]).map((r) => r.id);
  const maxObject = (db.prepare('SELECT max(id) AS id FROM objects').get() as { id: number | null }).id ?? 0;
  const list = db.prepare('SELECT id, name, etag FROM objects WHERE collection_id = ? ORDER BY name');
  const touch = db.prepare('UPDATE objects SET modified_at = ? WHERE id = ? RETURNING collection_id');
  const bump = db.prepare('UPDATE collections SET sync_seq = sync_seq + 1, updated_at = ? WHERE id = ?');
  const write = db.transaction((id: number) => {
    const row = touch.get(Date.now(), id) as { collection_id: number } | undefined;
    if (row !== undefined) bump.run(Date.now(), row.collection_id);
  });
  const started = performance.now();
  const latencies: number[] = [];
  let sent = 0;
  let writes = 0;
  let errors = 0;
  let stop = false;
  parentPort?.on('message', () => {
    stop = true;
  });
  const step = (): void => {
    const now = performance.now();
    // Every operation that has come due runs now; each is measured from when it was due.
    while (!stop && sent < ((now - started) / 1000) * options.ratePerSecond) {
      const due = started + (sent / options.ratePerSecond) * 1000;
      sent += 1;
      try {
        if (Math.random() < options.writeShare && maxObject > 0) {
          write.immediate(1 + Math.floor(Math.random() * maxObject));
          writes += 1;
        } else if (collections.length > 0) {
          list.all(collections[Math.floor(Math.random() * collections.length)]);
        }
      } catch {
        errors += 1;
      }
      latencies.push(performance.now() - due);
    }
    if (stop || now - started > options.maxMs) {
      db.close();
      parentPort?.postMessage({ requests: sent, writes, errors, latenciesMs: latencies } satisfies LoadReport);
      return;
    }
    setTimeout(step, 2);
  };
  step();
}

if (parentPort !== null && workerData !== undefined) run(workerData as LoadOptions);
