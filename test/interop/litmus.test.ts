// litmus (the WebDAV conformance suite, Debian package) against /files/<user>/ on a real server
// process: the basic, copymove, props and http suites must pass completely. locks is skipped by
// litmus itself because the server does not claim class 2.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { interopRequired, startServerProcess, type ServerProcess } from '../support/server-process.ts';

const hasLitmus = spawnSync('litmus', ['--version']).error === undefined;
const SUITES = ['basic', 'copymove', 'props', 'http'];

void describe('litmus', { skip: !hasLitmus && !interopRequired() ? 'litmus is not installed (apt-get install litmus)' : false }, () => {
  let server: ServerProcess;
  before(async () => {
    assert.ok(hasLitmus, 'litmus must be installed for this run (ALMANAC_REQUIRE_INTEROP=1)');
    server = await startServerProcess([{ name: 'litmus', password: 'litmus-secret' }]);
  });
  after(async () => {
    const code = await server.stop();
    assert.equal(code, 0, 'the server exits cleanly on SIGTERM');
  });

  void it('passes basic, copymove, props and http completely', () => {
    // litmus writes debug.log and child.log into its working folder: keep them out of the checkout.
    const cwd = mkdtempSync(join(tmpdir(), 'almanac-litmus-'));
    const run = spawnSync('litmus', [`${server.url}files/litmus/`, 'litmus', 'litmus-secret'], {
      cwd,
      env: { ...process.env, TESTS: SUITES.join(' ') },
      encoding: 'utf8',
      timeout: 120_000,
    });
    rmSync(cwd, { recursive: true, force: true });
    const output = `${run.stdout}${run.stderr}`;
    for (const suite of SUITES) {
      const summary = new RegExp(`summary for \`${suite}': of (\\d+) tests run: (\\d+) passed, (\\d+) failed`, 'u').exec(output);
      assert.ok(summary, `litmus printed no summary for ${suite}:\n${output}`);
      assert.equal(summary[3], '0', `litmus ${suite} had failures:\n${output}`);
      assert.equal(summary[1], summary[2], `litmus ${suite}: not every test passed:\n${output}`);
    }
    assert.equal(run.status, 0, output);
  });
});
