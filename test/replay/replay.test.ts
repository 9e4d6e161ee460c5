// Replays each client's recorded lifecycle against its own real server process, one `it` per step in
// order, so a failure names the client and the step; also checks the trace corpus is fully replayed.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parseXml } from '../../src/dav/xml/parse.ts';
import { runCli } from '../support/server-process.ts';
import { testBackend } from '../support/test-store.ts';
import { LIFECYCLES, startClient, type RunningClient } from './compatibility.ts';
import { PENDING_BACKFILLS, prepareMigrationInProgress } from './migration-state.ts';
import { TRACES_DIR, loadTrace, parseTrace, traceFiles } from './trace.ts';

const CLIENTS = readdirSync(TRACES_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

void describe('client trace corpus', () => {
  void it('holds the README and 74 request files from 5 clients', () => {
    assert.match(readFileSync(`${TRACES_DIR}README.md`, 'utf8'), /This folder holds 74 request files from 5 clients/u);
    assert.deepEqual(CLIENTS, ['davx5', 'evolution', 'ios-macos', 'thunderbird', 'vdirsyncer']);
    assert.equal(CLIENTS.flatMap((client) => traceFiles(client)).length, 74);
  });

  void it('parses every file: request line, headers, and an XML body that parses where one is sent', () => {
    for (const file of CLIENTS.flatMap((client) => traceFiles(client))) {
      const trace = loadTrace(file);
      assert.match(trace.method, /^(PROPFIND|PROPPATCH|REPORT|OPTIONS|PUT|DELETE|MKCALENDAR|MKCOL)$/u, file);
      const type = trace.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? '';
      if (/xml/u.test(type) && trace.body !== '') {
        const filled = trace.body.replace(/\{([a-z][a-z0-9-]*)\}/gu, 'x');
        assert.doesNotThrow(() => parseXml(filled), file);
      }
      if (trace.method === 'PUT') assert.ok(trace.body.endsWith('\r\n') && !trace.body.endsWith('\r\n\n'), `${file}: CRLF payload kept whole`);
    }
  });

  void it('keeps bodies byte for byte, dropping only the newline the recorder appended', () => {
    const parsed = parseTrace('x', 'REPORT /a HTTP/1.1\nDepth: 1\n\n  <a/>\n  \n');
    assert.equal(parsed.body, '  <a/>\n  ');
    assert.equal(parseTrace('x', 'PUT /a HTTP/1.1\n\nBEGIN:X\r\nEND:X\r\n').body, 'BEGIN:X\r\nEND:X\r\n');
    assert.equal(parseTrace('x', 'DELETE /a HTTP/1.1\nIf-Match: "{etag}"\n\n').body, '');
    assert.deepEqual(parseTrace('x', 'DELETE /a HTTP/1.1\nIf-Match: "{etag}"\n\n').headers, [['If-Match', '"{etag}"']]);
  });

  void it('replays every request file in some client lifecycle', () => {
    const replayed = new Set(LIFECYCLES.flatMap((lifecycle) => lifecycle.steps.flatMap((step) => step.files)));
    const missing = CLIENTS.flatMap((client) => traceFiles(client)).filter((file) => !replayed.has(file));
    assert.deepEqual(missing, []);
    for (const file of replayed) assert.ok(CLIENTS.some((client) => traceFiles(client).includes(file)), `${file} is not a fixture`);
  });
});

// Each client has its own server process and data folder, so the clients run side by side; the steps
// of one client run in order.
void describe('client replay', { concurrency: true }, () => {
  for (const lifecycle of LIFECYCLES) {
    void describe(lifecycle.name, { concurrency: 1 }, () => {
      let running: RunningClient;
      before(async () => {
        running = await startClient(lifecycle);
      });
      after(async () => running.stop());

      for (const step of lifecycle.steps) {
        void it(`${step.phase}: ${step.title}`, step.gap === undefined ? {} : { todo: step.gap }, async () => step.run(running.session, running.server));
      }
    });
  }
});

// The same lifecycles while an online migration is half done: the server ran the expand step at
// start and the reference backfill is pending, held by its pause flag, so every answer comes from
// the half-migrated schema. Prepared as a SQLite folder; on PostgreSQL the backfill tests under
// src/store/postgres and test/scenarios cover the same state.
void describe('client replay mid-migration', { concurrency: true, skip: testBackend() === 'postgres' ? 'the mid-migration state is prepared as a SQLite folder' : false }, () => {
  for (const lifecycle of LIFECYCLES) {
    void describe(lifecycle.name, { concurrency: 1 }, () => {
      let running: RunningClient;
      before(async () => {
        running = await startClient(lifecycle, { prepare: prepareMigrationInProgress });
      });
      after(async () => running.stop());

      void it('the server is mid-migration: expand applied, the reference backfill pending and paused', async () => {
        const status = await runCli(['migrate', 'status', '--json', ...running.server.storeArgs]);
        assert.equal(status.code, 0, status.stderr);
        const parsed = JSON.parse(status.stdout) as { backfills: { version: number; state: string; paused: boolean }[] };
        for (const version of PENDING_BACKFILLS) {
          const backfill = parsed.backfills.find((b) => b.version === version);
          assert.ok(backfill !== undefined && backfill.state !== 'done' && backfill.paused, `backfill ${version} must be pending and paused: ${status.stdout}`);
        }
      });

      for (const step of lifecycle.steps) {
        void it(`${step.phase}: ${step.title}`, step.gap === undefined ? {} : { todo: step.gap }, async () => step.run(running.session, running.server));
      }
    });
  }
});
