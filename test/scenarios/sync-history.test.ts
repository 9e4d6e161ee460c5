// What happens to sync tokens when history goes away: after tombstones are pruned an older token is
// refused (the client resyncs instead of missing a deletion), and after a restore from backup every
// earlier token is refused because the store epoch changed — end to end through the real CLI.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dav } from '../../src/dav/xml/names.ts';
import { parseXml } from '../../src/dav/xml/parse.ts';
import { findChild, textContent } from '../../src/dav/xml/tree.ts';
import { errorConditions, Harness, parseMultistatus } from '../support/harness.ts';
import { runCli, startServerProcess } from '../support/server-process.ts';
import { sqliteOnly } from '../support/test-store.ts';

const BOOK = '/addressbooks/alice/default/';
const card = (uid: string): string => `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${uid}\r\nEND:VCARD\r\n`;
const syncBody = (token: string): string =>
  `<D:sync-collection xmlns:D="DAV:"><D:sync-token>${token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`;

function tokenOf(text: string): string {
  return textContent(findChild(parseXml(text), dav('sync-token'))!);
}

void describe('sync history', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
  });
  after(async () => h.close());

  void it('refuses a token older than pruned tombstones, and still serves a full resync', async () => {
    await h.send('PUT', `${BOOK}a.vcf`, { headers: { 'content-type': 'text/vcard' }, body: card('a') });
    await h.send('PUT', `${BOOK}b.vcf`, { headers: { 'content-type': 'text/vcard' }, body: card('b') });
    const old = tokenOf((await h.send('REPORT', BOOK, { body: syncBody('') })).text);
    await h.send('DELETE', `${BOOK}b.vcf`);
    await h.store.pruneChanges(Date.now() + 60_000);
    const refused = await h.send('REPORT', BOOK, { body: syncBody(old) });
    assert.equal(refused.status, 403);
    assert.deepEqual(errorConditions(refused.text), [dav('valid-sync-token')]);
    const full = await h.send('REPORT', BOOK, { body: syncBody('') });
    assert.deepEqual(parseMultistatus(full.text).map((r) => r.href), [`${BOOK}a.vcf`]);
    const fresh = tokenOf(full.text);
    await h.send('PUT', `${BOOK}c.vcf`, { headers: { 'content-type': 'text/vcard' }, body: card('c') });
    const next = await h.send('REPORT', BOOK, { body: syncBody(fresh) });
    assert.deepEqual(parseMultistatus(next.text).map((r) => r.href), [`${BOOK}c.vcf`], 'tokens issued after the pruning keep working');
  });
});

void describe('backup and restore', () => {
  const work = mkdtempSync(join(tmpdir(), 'almanac-restore-'));
  const dataDir = join(work, 'data');
  const backupFile = join(work, 'backup.sqlite3');
  after(() => rmSync(work, { recursive: true, force: true }));

  async function request(url: string, method: string, path: string, body?: string, contentType = 'application/xml'): Promise<{ status: number; text: string }> {
    const response = await fetch(new URL(path, url), {
      method,
      headers: { authorization: `Basic ${Buffer.from('alice:alice-secret').toString('base64')}`, 'content-type': contentType },
      ...(body === undefined ? {} : { body }),
    });
    return { status: response.status, text: await response.text() };
  }

  void it('backs up online, refuses to restore under a running server, and invalidates every older token', { skip: sqliteOnly('backup and restore copy SQLite files') }, async () => {
    let server = await startServerProcess([{ name: 'alice', password: 'alice-secret' }], { dataDir, keepData: true });
    assert.equal((await request(server.url, 'PUT', `${BOOK}before.vcf`, card('before'), 'text/vcard')).status, 201);
    const beforeBackup = tokenOf((await request(server.url, 'REPORT', BOOK, syncBody(''))).text);

    const backup = await runCli(['backup', backupFile, '--data', dataDir]);
    assert.equal(backup.code, 0, backup.stderr);
    assert.equal((await request(server.url, 'PUT', `${BOOK}after.vcf`, card('after'), 'text/vcard')).status, 201);
    const afterBackup = tokenOf((await request(server.url, 'REPORT', BOOK, syncBody(beforeBackup))).text);

    const refused = await runCli(['restore', backupFile, '--data', dataDir]);
    assert.equal(refused.code, 1, 'a running server keeps the folder');
    assert.match(refused.stderr, /stop the server/u);

    assert.equal(await server.stop(), 0);
    const restored = await runCli(['restore', backupFile, '--data', dataDir]);
    assert.equal(restored.code, 0, restored.stderr);

    server = await startServerProcess([], { dataDir, keepData: true });
    try {
      for (const token of [beforeBackup, afterBackup]) {
        const answer = await request(server.url, 'REPORT', BOOK, syncBody(token));
        assert.equal(answer.status, 403, 'a token from before the restore must force a full resync');
        assert.match(answer.text, /valid-sync-token/u);
      }
      const full = await request(server.url, 'REPORT', BOOK, syncBody(''));
      assert.deepEqual(parseMultistatus(full.text).map((r) => r.href), [`${BOOK}before.vcf`], 'the data is the backup’s');
    } finally {
      await server.stop();
    }
  });
});
