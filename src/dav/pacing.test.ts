// Tests for the gate that bounds how many large answers are built at once: capacity, arrival order,
// and a place freed when its holder fails.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Gate, yieldToEventLoop } from './pacing.ts';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

void describe('Gate', () => {
  void it('runs at most its capacity at once and lets waiters in in arrival order', async () => {
    const gate = new Gate(2);
    const started: number[] = [];
    const holds = [deferred(), deferred(), deferred(), deferred()];
    const runs = holds.map((hold, i) => gate.run(async () => {
      started.push(i);
      await hold.promise;
      return i;
    }));
    await yieldToEventLoop();
    assert.deepEqual(started, [0, 1]);
    assert.equal(gate.waiting, 2);
    holds[1]?.resolve();
    await yieldToEventLoop();
    assert.deepEqual(started, [0, 1, 2]);
    holds[0]?.resolve();
    holds[2]?.resolve();
    holds[3]?.resolve();
    assert.deepEqual(await Promise.all(runs), [0, 1, 2, 3]);
    assert.equal(gate.held, 0);
  });

  void it('frees the place of a run that fails', async () => {
    const gate = new Gate(1);
    await assert.rejects(gate.run(() => Promise.reject(new Error('boom'))), /boom/u);
    assert.equal(gate.held, 0);
    assert.equal(await gate.run(() => Promise.resolve('next')), 'next');
  });

  void it('refuses a capacity that is not a positive integer', () => {
    assert.throws(() => new Gate(0), RangeError);
  });
});
