// The background backfill of a serving SQLite node, run in a worker thread with its own connection.
// better-sqlite3 is synchronous: a batch run on the serving thread would stall every request for the
// batch's length, reads included, although WAL lets reads go on beside the write lock. In a thread,
// only writers wait for a batch (≤ its target time). The serving thread sends its request-latency
// pressure in and gets the runner's events out. Must not import DAV or HTTP.
import { hostname } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { BackfillEvent } from '../backfill-engine.ts';
import { BackfillRunner, pendingBackfills } from './backfill-runner.ts';
import { processAlive } from './data-dir.ts';
import type { SqliteMigration } from './migrator.ts';
import { SQLITE_MIGRATIONS } from './migrations/index.ts';
import { liveNodes } from './release-state.ts';

interface ThreadOptions {
  readonly role: typeof ROLE;
  readonly file: string;
  readonly node: string;
  /** Versions of the store's migrations; the thread imports their code (derive functions) itself. */
  readonly versions: readonly number[];
}

type ToThread = { readonly kind: 'pressure'; readonly value: number } | { readonly kind: 'stop' };
type FromThread = { readonly kind: 'event'; readonly event: BackfillEvent } | { readonly kind: 'finished'; readonly error?: string };

/** True when the owner ran on this host and its process no longer exists (a kill -9, a crash). */
export function ownerProcessGone(nodes: readonly { id: string; host: string; pid: number }[], owner: string): boolean {
  const record = nodes.find((n) => n.id === owner);
  return record !== undefined && record.host === hostname() && !processAlive(record.pid);
}

/** Whether these migrations can run in the thread: the thread knows only the shipped set's code. */
export function threadCanRun(migrations: readonly SqliteMigration[]): boolean {
  return migrations.every((m) => SQLITE_MIGRATIONS.includes(m));
}

const ROLE = 'almanac-backfill-thread';
const ENTRY = new URL(`./backfill-thread.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

export class BackfillThread {
  private readonly worker: Worker;
  private readonly pressureTimer: NodeJS.Timeout;
  readonly finished: Promise<void>;

  constructor(options: Omit<ThreadOptions, 'role'> & { readonly pressure: () => number; readonly onEvent: (event: BackfillEvent) => void }) {
    const data: ThreadOptions = { role: ROLE, file: options.file, node: options.node, versions: options.versions };
    this.worker = new Worker(ENTRY, { workerData: data });
    this.finished = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (message: FromThread) => {
        if (message.kind === 'event') options.onEvent(message.event);
        else if (message.error === undefined) resolve();
        else reject(new Error(message.error));
      });
      this.worker.once('error', reject);
      this.worker.once('exit', () => resolve());
    });
    const send = (): void => this.worker.postMessage({ kind: 'pressure', value: options.pressure() } satisfies ToThread);
    send();
    this.pressureTimer = setInterval(send, 250);
    this.pressureTimer.unref();
  }

  /** Lets the batch in progress finish, then ends the thread. */
  async stop(): Promise<void> {
    clearInterval(this.pressureTimer);
    this.worker.postMessage({ kind: 'stop' } satisfies ToThread);
    await this.finished.catch(() => undefined);
    await this.worker.terminate();
  }
}

function runInThread(options: ThreadOptions): void {
  const post = (message: FromThread): void => parentPort?.postMessage(message);
  const db = new Database(options.file);
  // Waiting for the lock blocks only this thread, never a request; the serving thread's writes and
  // this runner's batches and bookkeeping now run side by side and take turns at it.
  db.pragma('busy_timeout = 2000');
  // A batch commits its checkpoint with its rows, so a batch lost to a power cut is simply done
  // again: no fsync per batch (the WAL reaches disk with the next synchronous commit or checkpoint).
  db.pragma('synchronous = NORMAL');
  const migrations = SQLITE_MIGRATIONS.filter((m) => options.versions.includes(m.version));
  let pressure = 1;
  const runner = new BackfillRunner({
    db,
    migrations,
    node: options.node,
    pressure: () => pressure,
    ownerGone: (owner) => Promise.resolve(ownerProcessGone(liveNodes(db, 0), owner)),
    onEvent: (event) => post({ kind: 'event', event: event.kind === 'failed' ? { ...event, error: String((event.error as Error | null)?.message ?? event.error) } : event }),
  });
  parentPort?.on('message', (message: ToThread) => {
    if (message.kind === 'pressure') pressure = message.value;
    else void runner.stop();
  });
  void (pendingBackfills(db, migrations).length === 0 ? Promise.resolve() : runner.run())
    .then(
      () => post({ kind: 'finished' }),
      (error: unknown) => post({ kind: 'finished', error: (error as Error | null)?.message ?? String(error) }),
    )
    .finally(() => {
      db.close();
      parentPort?.close();
    });
}

if (!isMainThread && (workerData as Partial<ThreadOptions> | null)?.role === ROLE) runInThread(workerData as ThreadOptions);
