// Group commit for the SQLite store: the writes that arrive while the event loop is busy (one turn)
// share ONE immediate transaction, each in its own savepoint, so they cost one fsync (synchronous=FULL)
// instead of one each. A write that fails is rolled back to its savepoint alone and rejected with its
// own error; the others commit. No write is acknowledged before the COMMIT that holds it has returned,
// and if that COMMIT fails every write of the group is rejected. Imports nothing of ours.
import { setImmediate as nextTurn } from 'node:timers/promises';

interface Job {
  readonly fn: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

export interface GroupCommitDriver {
  /** Runs fn in one immediate transaction (retrying while another process holds the lock). */
  readonly transaction: (fn: () => void) => Promise<void>;
  /** Runs fn in a savepoint of the current transaction: rolled back to it, and rethrown, if fn throws. */
  readonly savepoint: (fn: () => unknown) => unknown;
  /** Errors that must abort the whole transaction (and so the group) instead of one write. */
  readonly abortsGroup: (error: unknown) => boolean;
}

export class GroupCommit {
  readonly #driver: GroupCommitDriver;
  #queue: Job[] = [];
  #scheduled = false;

  constructor(driver: GroupCommitDriver) {
    this.#driver = driver;
  }

  /** Queues fn for the next group; resolves with its value once the group's COMMIT has returned. */
  write<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        void nextTurn().then(() => this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    const group = this.#queue;
    this.#queue = [];
    this.#scheduled = false;
    let outcomes: Outcome[] = [];
    try {
      await this.#driver.transaction(() => {
        outcomes = group.map((job) => this.#run(job));
      });
    } catch (error) {
      for (const job of group) job.reject(error);
      return;
    }
    group.forEach((job, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok === true) job.resolve(outcome.value);
      else job.reject(outcome === undefined ? new Error('write left out of its group') : outcome.error);
    });
  }

  #run(job: Job): Outcome {
    try {
      return { ok: true, value: this.#driver.savepoint(job.fn) };
    } catch (error) {
      if (this.#driver.abortsGroup(error)) throw error;
      return { ok: false, error };
    }
  }
}
