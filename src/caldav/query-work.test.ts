// Tests for the per-report work budget: a report over its limit ends with 503 + Retry-After, and a
// long one lets other work run between its objects.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DavError } from '../dav/errors.ts';
import { QueryWork, SLICE_MS } from './query-work.ts';

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* work */ }
}

void describe('QueryWork', () => {
  void it('ends a report past its limit with 503 and Retry-After', async () => {
    const work = new QueryWork(0);
    busy(1);
    await assert.rejects(work.between(), (error: unknown) =>
      error instanceof DavError && error.status === 503 && Number(error.headers['Retry-After']) > 0);
  });

  void it('lets other work run after a slice of its own', async () => {
    const work = new QueryWork(60_000);
    let ran = false;
    void nextTurn().then(() => { ran = true; });
    busy(SLICE_MS + 1);
    await work.between();
    assert.equal(ran, true);
  });


  void it('counts the work done between objects, which the filter hurries past HURRY_AFTER_MS', async () => {
    const work = new QueryWork(60_000);
    assert.equal(work.spentMs < 1, true);
    busy(3);
    await work.between();
    assert.ok(work.spentMs >= 3);
  });
});
