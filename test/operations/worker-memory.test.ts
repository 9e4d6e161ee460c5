// Worker memory settings (docs/operations.md, "Memory"): `almanac serve` starts its worker with the
// old-space limit of workerHeapMb and glibc's malloc told to keep two arenas and give large blocks
// back; 0 leaves Node's own limit, and an operator's own malloc settings win.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { workerExecArgv, workerMallocEnv } from '../../src/cli/supervisor.ts';
import { DEFAULTS } from '../../src/config/config.ts';
import { startServerProcess } from '../support/server-process.ts';

void describe('worker memory settings', () => {
  void it('computes the flags and the malloc environment', () => {
    assert.deepEqual(workerExecArgv({ workerHeapMb: 512 }, ['--enable-source-maps', '--max-old-space-size=4096']), ['--enable-source-maps', '--max-old-space-size=512']);
    assert.deepEqual(workerExecArgv({ workerHeapMb: 0 }, ['--max-old-space-size=4096']), [], 'Node decides');
    assert.deepEqual(workerMallocEnv({ MALLOC_ARENA_MAX: '8' }), { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' }, 'the operator’s arena count stays');
  });

  void it('starts the real worker with them', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
    const server = await startServerProcess([]);
    try {
      const pid = server.servingPid();
      assert.ok(pid !== undefined);
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      assert.ok(argv.includes(`--max-old-space-size=${DEFAULTS.workerHeapMb}`), argv.join(' '));
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      assert.ok(environ.includes('MALLOC_ARENA_MAX=2'));
      assert.equal((await fetch(new URL('/readyz', server.url))).status, 200);
    } finally {
      await server.stop();
    }
  });
});
