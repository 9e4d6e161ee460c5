// The proof of issue 6 at CI size, against a real `almanac serve` process: a generated database, the
// load oracle sending its checked mix the whole time, and in the middle (1) a restart without
// downtime, (2) a restart into an unexpected release that can serve on the schema it finds (it
// serves, runs no DDL and raises the alarm before it takes a request), (3) a restart into an
// unexpected release that cannot serve (it never replaces the running worker). Through all of it
// the oracle must see no failed, refused, short, empty or wrong answer and no lost write.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { generateDatabase, type Manifest } from '../../bench/generate-db.ts';
import { LoadOracle } from '../../bench/load-oracle.ts';
import { copyRelease, type ReleaseCopy } from '../support/release-copy.ts';
import { runCli, startServerProcess, type ServerProcess } from '../support/server-process.ts';

// About 2,000 objects by default; ALMANAC_ORACLE_USERS=80 gives the ~20,000 of the CI size.
const USERS = Number(process.env.ALMANAC_ORACLE_USERS ?? '8');
const PHASE_MS = 1500;

function schemaFingerprint(dataDir: string): string {
  const db = new Database(join(dataDir, 'almanac.sqlite3'), { readonly: true });
  try {
    const rows = db.prepare('SELECT type, name, sql FROM sqlite_schema ORDER BY type, name').all();
    return createHash('sha256').update(JSON.stringify(rows)).digest('hex');
  } finally {
    db.close();
  }
}

function fetchText(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: new Agent({ keepAlive: false }) }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

async function waitFor(condition: () => boolean, boundMs: number): Promise<boolean> {
  const deadline = Date.now() + boundMs;
  while (!condition() && Date.now() < deadline) await sleep(50);
  return condition();
}

void describe('zero-downtime restarts and unexpected releases under checked load', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'almanac-oracle-'));
  let release: ReleaseCopy;
  let server: ServerProcess;
  let oracle: LoadOracle;
  let manifest: Manifest;

  before(async () => {
    manifest = (await generateDatabase({ dataDir, users: USERS, calendarsPerUser: 2, eventsPerCalendar: 100, contactsPerUser: 50, seed: 42, password: 'oracle-secret' })).manifest;
    release = copyRelease();
    server = await startServerProcess([], { dataDir, entry: release.entry });
    oracle = new LoadOracle({ url: server.url, manifest, rate: 60, maxInFlight: 16, freshConnectionShare: 0.3 });
    oracle.setPhase('before');
    oracle.start();
    await sleep(PHASE_MS);
  });

  after(async () => {
    await server.stop();
    release.remove();
  });

  void it('restarts under load without a refused connection or a wrong answer', async () => {
    oracle.setPhase('restart');
    const restarted = await runCli(['restart', '--data', dataDir]);
    assert.equal(restarted.code, 0, restarted.stderr);
    await sleep(PHASE_MS);
    const report = oracle.snapshot();
    assert.deepEqual(report.violations, { failedResponses: 0, refusedOrReset: 0, emptyListings: 0, shortListings: 0, wrongAnswers: 0, lostWrites: 0 }, report.examples.join('\n'));
    assert.ok((report.phases.restart?.answered ?? 0) > 0, 'requests were answered during the restart');
  });

  void it('lets an unexpected release that can serve take over: no DDL, the alarm before its first request', async () => {
    const fingerprint = schemaFingerprint(dataDir);
    release.setVersion('9.9.9');
    oracle.setPhase('unexpected');
    const restarted = await runCli(['restart', '--data', dataDir]);
    assert.equal(restarted.code, 0, restarted.stderr);
    // Logged before the worker binds, so it is there once the restart reports the worker ready.
    assert.ok(await waitFor(() => /"alarm":"unexpected-release".*almanac release expect 9\.9\.9 /u.test(server.stderr()), 5000), 'the alarm was logged');
    assert.match((await fetchText(new URL('/metrics', server.url).href)).body, /almanac_release_unexpected 1/u);
    assert.match((await fetchText(new URL('/readyz', server.url).href)).body, /not expected/u);
    await sleep(PHASE_MS);
    assert.equal(schemaFingerprint(dataDir), fingerprint, 'the schema is unchanged');
    const report = oracle.snapshot();
    assert.equal(Object.values(report.violations).reduce((a, b) => a + b, 0), 0, report.examples.join('\n'));
  });

  void it('keeps the running worker when the new release cannot serve on this schema', async () => {
    const fingerprint = schemaFingerprint(dataDir);
    const serving = (await fetchText(new URL('/readyz', server.url).href)).body;
    release.setVersion('9.9.10');
    release.requireSchema(999);
    oracle.setPhase('cannot-serve');
    const refused = await runCli(['restart', '--data', dataDir]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /restart failed: the new worker could not start, so the running one keeps serving: .*too old for this release.*almanac release expect 9\.9\.10 /u);
    assert.equal((await fetchText(new URL('/readyz', server.url).href)).body, serving, 'the same worker still answers');
    await sleep(PHASE_MS);
    assert.equal(schemaFingerprint(dataDir), fingerprint, 'the schema is unchanged');
  });

  void it('answered everything right and lost no acknowledged write', async () => {
    oracle.setPhase('after');
    await sleep(PHASE_MS);
    const report = await oracle.finish();
    assert.deepEqual(report.violations, { failedResponses: 0, refusedOrReset: 0, emptyListings: 0, shortListings: 0, wrongAnswers: 0, lostWrites: 0 }, report.examples.join('\n'));
    assert.ok(report.acknowledgedWrites > 0);
    for (const phase of ['before', 'restart', 'unexpected', 'cannot-serve', 'after']) assert.ok((report.phases[phase]?.answered ?? 0) > 0, `answers in phase ${phase}`);
    process.stderr.write(`oracle: ${JSON.stringify({ objects: manifest.objects, requests: report.requests, acknowledgedWrites: report.acknowledgedWrites, keepAliveRetries: report.keepAliveRetries, phases: Object.fromEntries(Object.entries(report.phases).map(([k, v]) => [k, { answered: v.answered, share503: v.share503, p50Ms: v.p50Ms, p99Ms: v.p99Ms }])) })}\n`);
  });
});
