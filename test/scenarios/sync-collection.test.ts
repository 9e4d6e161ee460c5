// RFC 6578 sync-collection as phones use it: initial and incremental syncs, removals as 404, paging
// with DAV:limit, every kind of invalid token, the quirks of real clients, and homes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dav } from '../../src/dav/xml/names.ts';
import { findChild, textContent } from '../../src/dav/xml/tree.ts';
import { parseXml } from '../../src/dav/xml/parse.ts';
import { errorConditions, Harness, parseMultistatus } from '../support/harness.ts';

const BOOK = '/addressbooks/alice/default/';
const card = (uid: string, name: string): string => `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${name}\r\nN:${name};;;;\r\nEND:VCARD\r\n`;
const VCARD = { 'content-type': 'text/vcard; charset=utf-8' };

function syncBody(token: string, options: { limit?: number; level?: string | null } = {}): string {
  const level = options.level === null ? '' : `<D:sync-level>${options.level ?? '1'}</D:sync-level>`;
  const limit = options.limit === undefined ? '' : `<D:limit><D:nresults>${options.limit}</D:nresults></D:limit>`;
  return `<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>${token}</D:sync-token>${level}${limit}<D:prop><D:getetag/></D:prop></D:sync-collection>`;
}

interface SyncResult {
  readonly status: number;
  readonly token: string;
  readonly changed: string[];
  readonly removed: string[];
  readonly truncated: boolean;
  readonly text: string;
}

async function sync(h: Harness, path: string, token: string, options: { limit?: number; level?: string | null; depth?: string } = {}): Promise<SyncResult> {
  const response = await h.send('REPORT', path, { headers: { depth: options.depth ?? '0' }, body: syncBody(token, options) });
  if (response.status !== 207) return { status: response.status, token: '', changed: [], removed: [], truncated: false, text: response.text };
  const entries = parseMultistatus(response.text);
  const tokenElement = findChild(parseXml(response.text), dav('sync-token'));
  return {
    status: response.status,
    token: tokenElement === undefined ? '' : textContent(tokenElement),
    changed: entries.filter((e) => e.status === undefined).map((e) => e.href),
    removed: entries.filter((e) => e.status === 'HTTP/1.1 404 Not Found').map((e) => e.href),
    truncated: entries.some((e) => e.status === 'HTTP/1.1 507 Insufficient Storage'),
    text: response.text,
  };
}

void describe('sync-collection', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice', 'bob']);
  });
  after(async () => h.close());

  void it('walks a client through initial sync, adds, changes, deletes and a PROPPATCH', async () => {
    const initial = await sync(h, BOOK, '');
    assert.equal(initial.status, 207);
    assert.deepEqual(initial.changed, []);
    assert.match(initial.token, /^http:\/\/almanac\.invalid\/sync\//u);

    for (const n of [1, 2, 3]) assert.equal((await h.send('PUT', `${BOOK}c${n}.vcf`, { headers: VCARD, body: card(`u${n}`, `Person ${n}`) })).status, 201);
    const added = await sync(h, BOOK, initial.token);
    assert.deepEqual(added.changed.sort(), [`${BOOK}c1.vcf`, `${BOOK}c2.vcf`, `${BOOK}c3.vcf`]);
    assert.deepEqual(added.removed, []);

    assert.equal((await h.send('PUT', `${BOOK}c2.vcf`, { headers: VCARD, body: card('u2', 'Person Two') })).status, 204);
    assert.equal((await h.send('DELETE', `${BOOK}c3.vcf`)).status, 204);
    const changed = await sync(h, BOOK, added.token);
    assert.deepEqual(changed.changed, [`${BOOK}c2.vcf`]);
    assert.deepEqual(changed.removed, [`${BOOK}c3.vcf`]);

    const quiet = await sync(h, BOOK, changed.token);
    assert.deepEqual([quiet.changed, quiet.removed], [[], []]);
    assert.equal(quiet.token, changed.token, 'nothing changed, so the token stays');

    await h.send('PROPPATCH', BOOK, { body: '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Friends</D:displayname></D:prop></D:set></D:propertyupdate>' });
    const renamed = await sync(h, BOOK, quiet.token);
    assert.notEqual(renamed.token, quiet.token, 'a PROPPATCH moves the token');
    assert.deepEqual([renamed.changed, renamed.removed], [[], []]);

    const full = await sync(h, BOOK, '');
    assert.deepEqual(full.changed.sort(), [`${BOOK}c1.vcf`, `${BOOK}c2.vcf`], 'an initial sync lists what exists, without removals');
    assert.deepEqual(full.removed, []);
  });

  void it('reports a MOVE as a removal in the source and an addition in the destination', async () => {
    const created = await h.send('MKCOL', '/addressbooks/alice/work/', {
      headers: { 'content-type': 'application/xml' },
      body: '<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>',
    });
    assert.equal(created.status, 201);
    const source = await sync(h, BOOK, '');
    const target = await sync(h, '/addressbooks/alice/work/', '');
    assert.equal((await h.send('MOVE', `${BOOK}c1.vcf`, { headers: { destination: '/addressbooks/alice/work/moved.vcf' } })).status, 201);
    assert.deepEqual((await sync(h, BOOK, source.token)).removed, [`${BOOK}c1.vcf`]);
    assert.deepEqual((await sync(h, '/addressbooks/alice/work/', target.token)).changed, ['/addressbooks/alice/work/moved.vcf']);
  });

  void it('refuses every kind of invalid token with valid-sync-token', async () => {
    const good = (await sync(h, BOOK, '')).token;
    const other = (await sync(h, '/addressbooks/alice/work/', '')).token;
    const epochless = good.replace(/sync\/[0-9a-f-]{36}\//u, 'sync/00000000-0000-0000-0000-000000000000/');
    const future = good.replace(/\/(\d+)$/u, (_m, seq: string) => `/${Number(seq) + 1000}`);
    for (const token of ['garbage', '1f0b6c3e-9a55-4c1e-8f7e-1b2c3d4e5f60', other, epochless, future, 'http://almanac.invalid/sync/x/1/2']) {
      const result = await sync(h, BOOK, token);
      assert.equal(result.status, 403, token);
      assert.deepEqual(errorConditions(result.text), [dav('valid-sync-token')], token);
    }
  });

  void it('accepts what iOS and Thunderbird send: Depth 1 and no sync-level', async () => {
    const result = await sync(h, BOOK, '', { level: null, depth: '1' });
    assert.equal(result.status, 207);
    assert.equal(result.changed.length, 1);
  });

  void it('pages through a big collection, each member exactly once, with 507 on truncated pages', async () => {
    await h.send('MKCOL', '/addressbooks/alice/big/', {
      headers: { 'content-type': 'application/xml' },
      body: '<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>',
    });
    for (let n = 0; n < 250; n++) await h.send('PUT', `/addressbooks/alice/big/${n}.vcf`, { headers: VCARD, body: card(`big-${n}`, `Big ${n}`) });
    // A change during paging is delivered again later, never lost.
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    for (;;) {
      const page = await sync(h, '/addressbooks/alice/big/', token, { limit: 100 });
      assert.equal(page.status, 207);
      assert.ok(page.changed.length <= 100);
      seen.push(...page.changed);
      token = page.token;
      pages += 1;
      if (pages === 1) await h.send('PUT', '/addressbooks/alice/big/0.vcf', { headers: VCARD, body: card('big-0', 'Big zero, renamed') });
      if (!page.truncated) break;
      assert.ok(pages < 10, 'paging ends');
    }
    assert.equal(pages, 3);
    const unique = new Set(seen);
    assert.equal(unique.size, 250, 'every member is delivered');
    assert.equal(seen.length, 251, 'only the member changed during paging comes twice');
  });

  void it('syncs the list of calendars on the calendar home', async () => {
    const home = '/calendars/alice/';
    const initial = await sync(h, home, '');
    assert.deepEqual(initial.changed, ['/calendars/alice/default/']);
    await h.send('MKCALENDAR', '/calendars/alice/extra/');
    const added = await sync(h, home, initial.token);
    assert.deepEqual(added.changed, ['/calendars/alice/extra/']);
    await h.send('DELETE', '/calendars/alice/extra/');
    const removed = await sync(h, home, added.token);
    assert.deepEqual(removed.removed, ['/calendars/alice/extra/']);
    const infinite = await h.send('REPORT', home, { body: syncBody('', { level: 'infinite' }) });
    assert.equal(infinite.status, 403);
  });

  void it('does not let one user sync another’s collection', async () => {
    const response = await h.send('REPORT', BOOK, { as: h.as('bob'), body: syncBody('') });
    assert.equal(response.status, 404);
  });
});
