// The test backfill both stores' backfill tests run, declared once because a backfill is the same
// declaration on SQLite and PostgreSQL: `derived` is the upper-cased `source`, and `touched` counts
// how often a row's batch was committed (deliberately not idempotent, so a row done twice shows as 2).
// Also the child process plumbing both kill -9 tests share. Each store's fixture file adds its table
// and its SQL. Imports only the migration types of the stores.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { BackfillEvent } from '../../src/store/backfill-engine.ts';
import type { PostgresMigration } from '../../src/store/postgres/migrator.ts';
import type { SqliteMigration } from '../../src/store/sqlite/migrator.ts';

/** Busy-waits this long per row, so a batch takes measurable time (the child process sets it). */
let perRowMs = 0;
export function setPerRowMs(ms: number): void {
  perRowMs = ms;
}

/** Throws on this key (a bug in derive) to show a failed batch leaves nothing behind. */
let failOn: number | undefined;
export function setFailOn(key: number | undefined): void {
  failOn = key;
}

export const ITEMS_BACKFILL: SqliteMigration & PostgresMigration = {
  version: 902,
  name: 'test-items-derived',
  phase: 'backfill',
  sql: '-- backfill items.derived = upper(source); revision 1',
  backfill: {
    table: 'items',
    key: 'id',
    columns: ['source', 'touched'],
    derive: (row) => {
      if (Number(row.id) === failOn) throw new Error(`derive failed on ${failOn}`);
      if (perRowMs > 0) {
        const until = performance.now() + perRowMs;
        while (performance.now() < until);
      }
      return { derived: String(row.source).toUpperCase(), touched: Number(row.touched) + 1 };
    },
  },
};

/** How a child process runs the backfill: small batches, one JSON line on stdout per batch. */
export const CHILD_RUNNER_SETTINGS = {
  initialBatchSize: 20,
  maxBatchSize: 50,
  reportEvery: 1,
  pollMs: 50,
  staleAfterMs: 0,
  onEvent: (event: BackfillEvent): void => {
    if ('progress' in event) process.stdout.write(`${JSON.stringify({ kind: event.kind, done: event.progress.rowsDone, lastKey: event.progress.lastKey })}\n`);
  },
};

export interface BackfillChild {
  readonly lines: AsyncIterator<string>;
  kill(): void;
  readonly exited: Promise<number | null>;
}

/** Starts `script` (a child file beside this one) with its arguments; stdout is read line by line. */
export function startChildScript(script: string, args: readonly string[]): BackfillChild {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { lines: createInterface({ input: child.stdout })[Symbol.asyncIterator](), kill: () => child.kill('SIGKILL'), exited };
}

export async function nextEvent(lines: AsyncIterator<string>): Promise<{ kind: string; done?: number }> {
  const line = await lines.next();
  if (line.done === true) throw new Error('the child ended early');
  return JSON.parse(line.value) as { kind: string; done?: number };
}
