// Rules every store applies the same way, so SQLite and PostgreSQL cannot disagree on them: the
// compare-and-swap check of a write's expectation, the counter changes a write makes, the check of a
// listing against those counters, and LIKE-pattern escaping for path-prefix queries. Imports only the
// store contract and its errors.
import { EtagMismatch, StoreInconsistent } from './errors.ts';
import type { WriteExpectation } from './store.ts';

/** How a write changes a collection's counters (objects, child collections, bytes). */
export interface Deltas {
  readonly objects?: number;
  readonly children?: number;
  readonly bytes?: number;
}

/** Throws EtagMismatch (→ 412) when what is there is not what the write expects. */
export function checkExpectation(current: { etag: string } | undefined, expect: WriteExpectation): void {
  if (expect === undefined) return;
  if ('absent' in expect) {
    if (current !== undefined) throw new EtagMismatch('the resource exists');
    return;
  }
  if (current === undefined || current.etag !== expect.etag) throw new EtagMismatch('the resource changed');
}

/** A listing shorter (or longer) than the collection's counters is never served as the truth (→ 503). */
export function guardCount(path: string, expectedObjects: number, actualObjects: number, expectedChildren: number, actualChildren: number): void {
  if (expectedObjects !== actualObjects || expectedChildren !== actualChildren) {
    throw new StoreInconsistent(
      `listing of ${path} has ${actualObjects} objects and ${actualChildren} collections but the counters say ${expectedObjects} and ${expectedChildren}`,
    );
  }
}

/** Escapes LIKE's wildcards (used with ESCAPE '\') so a path is matched as a literal prefix. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
