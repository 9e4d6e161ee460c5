// Rules every store's write path applies the same way, so SQLite and PostgreSQL cannot disagree on
// them: the compare-and-swap check of a write's expectation, the counter changes a write makes, and
// LIKE-pattern escaping for path-prefix queries. Imports only the store contract and its errors.
import { EtagMismatch } from './errors.ts';
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

/** Escapes LIKE's wildcards (used with ESCAPE '\') so a path is matched as a literal prefix. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
