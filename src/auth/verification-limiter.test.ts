// Tests for the bounded argon2 concurrency limiter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VerificationLimiter } from './verification-limiter.ts';

void test('runs at most maxActive tasks, queues up to maxQueued, refuses the rest', async () => {
  const limiter = new VerificationLimiter(2, 2);
  const gates: (() => void)[] = [];
  let running = 0;
  let peak = 0;
  const task = async (): Promise<string> => {
    running++;
    peak = Math.max(peak, running);
    await new Promise<void>((resolve) => gates.push(resolve));
    running--;
    return 'done';
  };
  const runs = [limiter.run(task), limiter.run(task), limiter.run(task), limiter.run(task)];
  assert.equal(await limiter.run(task), null);
  assert.equal(limiter.active, 2);
  assert.equal(limiter.queued, 2);
  // A caller-supplied lower queue limit refuses earlier.
  assert.equal(await limiter.run(task, 1), null);
  while (gates.length > 0 || running > 0) {
    gates.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.deepEqual(await Promise.all(runs), [{ value: 'done' }, { value: 'done' }, { value: 'done' }, { value: 'done' }]);
  assert.equal(peak, 2);
  assert.equal(limiter.active, 0);
  assert.equal(limiter.queued, 0);
});

void test('a failing task releases its slot', async () => {
  const limiter = new VerificationLimiter(1, 0);
  await assert.rejects(limiter.run(() => Promise.reject(new Error('boom'))), /boom/);
  assert.deepEqual(await limiter.run(() => Promise.resolve(1)), { value: 1 });
});
