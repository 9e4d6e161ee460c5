// Retry-After while a migration step holds the lock: derived from the step's rehearsed time, never
// less than a second, a short re-ask when the step is unrehearsed or overdue, and a file left by a
// process that died is ignored.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { announceStep, clearStep, currentStep, DEFAULT_BUSY_RETRY_SECONDS, retryAfterSeconds } from './step-announcement.ts';

const step = { version: 9, name: 'object-busy', pid: process.pid, startedAt: 1_000_000, expectedMs: 12_500 };

void describe('migration step announcement', () => {
  void it('turns the remaining rehearsed time into whole seconds', () => {
    assert.equal(retryAfterSeconds(step, 1_000_000), 13);
    assert.equal(retryAfterSeconds(step, 1_012_000), 1, 'half a second left still says 1');
    assert.equal(retryAfterSeconds(undefined, 0), DEFAULT_BUSY_RETRY_SECONDS);
    assert.equal(retryAfterSeconds({ ...step, expectedMs: null }, 1_000_000), 5, 'an unrehearsed step is asked about again soon');
    assert.equal(retryAfterSeconds(step, 1_020_000), 5, 'an overdue step too');
    assert.equal(retryAfterSeconds({ ...step, expectedMs: 3_600_000 }, 1_000_000), 300, 'capped at five minutes');
  });

  void it('is read back while its process lives and ignored once it is gone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'almanac-step-'));
    const database = join(dir, 'db.sqlite3');
    try {
      assert.equal(currentStep(database), undefined);
      announceStep(database, step);
      assert.deepEqual(currentStep(database), step);
      const exited = spawnSync(process.execPath, ['-e', 'process.exit(0)']);
      announceStep(database, { ...step, pid: exited.pid ?? 0 });
      assert.equal(currentStep(database), undefined, 'a killed migrator leaves no false promise');
      clearStep(database);
      assert.equal(currentStep(database), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
