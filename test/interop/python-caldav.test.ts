// The python `caldav` library (Debian python3-caldav) discovers the principal from the root URL and
// lists the default calendar of a real server process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { interopRequired, startServerProcess, type ServerProcess } from '../support/server-process.ts';

// Debian's python, where python3-caldav is installed (another python3 may come first on PATH).
const PYTHON = '/usr/bin/python3';
const hasCaldav = spawnSync(PYTHON, ['-c', 'import caldav']).status === 0;
const SCRIPT = fileURLToPath(new URL('./caldav_smoke.py', import.meta.url));

void describe('python caldav', { skip: !hasCaldav && !interopRequired() ? 'python3-caldav is not installed (apt-get install python3-caldav)' : false }, () => {
  let server: ServerProcess;
  before(async () => {
    assert.ok(hasCaldav, 'python3-caldav must be installed for this run (ALMANAC_REQUIRE_INTEROP=1)');
    server = await startServerProcess([{ name: 'carol', password: 'carol-secret' }]);
  });
  after(async () => server.stop());

  void it('discovers the principal from the root URL and lists the default calendar', () => {
    const run = spawnSync(PYTHON, [SCRIPT, server.url, 'carol', 'carol-secret'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { principal: string; calendars: { url: string; name: string }[] };
    assert.equal(result.principal, `${server.url}principals/carol/`);
    assert.deepEqual(result.calendars, [{ url: `${server.url}calendars/carol/default/`, name: 'Calendar' }]);
  });
});
