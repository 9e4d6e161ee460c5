// The CPU a CalDAV report may spend on its objects: between two objects it gives the event loop back
// to other requests after a short slice, and past a total it ends the request with 503 + Retry-After
// instead of holding the server (or answering with part of the objects). Imports only src/dav errors.
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DavError } from '../dav/errors.ts';

/** Work (ms) between two chances for other requests to run. */
export const SLICE_MS = 20;
/** Work (ms) one report may spend on its objects in all. */
export const REQUEST_WORK_MS = 2000;
/**
 * Past this much work (ms), a filter gives each further object only HURRIED_FILTER_MS before keeping it
 * (a conservative answer), so a calendar full of costly rules is answered rather than refused.
 */
export const HURRY_AFTER_MS = 1000;
export const HURRIED_FILTER_MS = 2;
const RETRY_AFTER_SECONDS = 30;

export class QueryWork {
  readonly #limitMs: number;
  #spentMs = 0;
  #mark = performance.now();
  #sliceStart = this.#mark;

  constructor(limitMs = REQUEST_WORK_MS) {
    this.#limitMs = limitMs;
  }

  /** Work counted so far (ms). */
  get spentMs(): number {
    return this.#spentMs;
  }

  /**
   * Called between two objects. Counts the work since the last call (time spent waiting for other
   * requests while this one yielded is not counted; awaits of the caller's own, such as store reads, are), yields after SLICE_MS of it, and throws a 503 once the total passes
   * the limit.
   */
  async between(): Promise<void> {
    const now = performance.now();
    this.#spentMs += now - this.#mark;
    this.#mark = now;
    if (this.#spentMs > this.#limitMs) {
      throw new DavError(503, 'This report needs more work than the server gives one request (objects with very many recurrence instances in the range); try again later or with a shorter range.', undefined, { 'Retry-After': String(RETRY_AFTER_SECONDS) });
    }
    if (now - this.#sliceStart >= SLICE_MS) {
      await nextTurn();
      this.#mark = performance.now();
      this.#sliceStart = this.#mark;
    }
  }
}
