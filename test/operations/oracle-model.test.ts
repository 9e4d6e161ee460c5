// The load oracle's verdicts (bench/oracle-model.ts) must catch what they claim to: a proof that
// reports 0 violations is only worth something if a short, empty or wrong answer would be counted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkFullListing, checkMultiget, checkSyncDelta, parseMultistatus, retriedWriteUncertain, type CollectionModel } from '../../bench/oracle-model.ts';

const HREF = '/calendars/u/default/';

function model(names: readonly string[]): CollectionModel {
  return {
    href: HREF,
    kind: 'calendar',
    auth: '',
    members: new Map(names.map((n) => [n, { uid: `uid-${n}`, etag: n === 'b.ics' ? '"etag-b"' : undefined }])),
    uncertain: new Set(),
    written: new Set(),
    sync: undefined,
    nextIndex: 0,
    busy: false,
  };
}

function response(name: string, status: number, extra = ''): string {
  return `<D:response><D:href>${HREF}${name}</D:href><D:propstat><D:prop>${extra}</D:prop><D:status>HTTP/1.1 ${status} OK</D:status></D:propstat></D:response>`;
}

function listing(entries: string[], token = ''): string {
  return `<?xml version="1.0"?><D:multistatus xmlns:D="DAV:"><D:response><D:href>${HREF}</D:href><D:propstat><D:prop/><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>${entries.join('')}${token === '' ? '' : `<D:sync-token>${token}</D:sync-token>`}</D:multistatus>`;
}

void describe('load oracle verdicts', () => {
  void it('accepts an exact listing and reads the sync token', () => {
    const parsed = parseMultistatus(listing([response('a.ics', 200), response('b.ics', 200, '<D:getetag>&quot;etag-b&quot;</D:getetag>')], 'tok-1'), HREF);
    assert.equal(parsed.syncToken, 'tok-1');
    assert.deepEqual(checkFullListing(model(['a.ics', 'b.ics']), parsed, 'PROPFIND').problems, []);
  });

  void it('counts a short, an empty and a wrong listing', () => {
    const collection = model(['a.ics', 'b.ics']);
    assert.deepEqual(checkFullListing(collection, parseMultistatus(listing([response('a.ics', 200)]), HREF), 'PROPFIND').problems.map((p) => p.kind), ['short']);
    assert.deepEqual(checkFullListing(collection, parseMultistatus(listing([]), HREF), 'PROPFIND').problems.map((p) => p.kind), ['empty']);
    const extra = listing([response('a.ics', 200), response('b.ics', 200, '<D:getetag>"other"</D:getetag>'), response('ghost.ics', 200)]);
    assert.deepEqual(checkFullListing(collection, parseMultistatus(extra, HREF), 'PROPFIND').problems.map((p) => p.kind), ['wrong', 'wrong']);
  });

  void it('requires an incremental sync to report exactly the changes', () => {
    const collection = model(['a.ics', 'new.ics']);
    const base = { token: 't', touched: new Set(['b.ics', 'new.ics']), before: new Set(['a.ics', 'b.ics']) };
    const deleted = `<D:response><D:href>${HREF}b.ics</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>`;
    assert.deepEqual(checkSyncDelta(collection, base, parseMultistatus(listing([deleted, response('new.ics', 200)]), HREF)).problems, []);
    assert.deepEqual(checkSyncDelta(collection, base, parseMultistatus(listing([response('new.ics', 200)]), HREF)).problems.map((p) => p.kind), ['short']);
    assert.deepEqual(checkSyncDelta(collection, base, parseMultistatus(listing([deleted, response('new.ics', 200), response('a.ics', 200)]), HREF)).problems.map((p) => p.kind), ['wrong']);
  });

  void it('checks multiget data and the 404 of a missing href', () => {
    const collection = model(['a.ics']);
    const good = listing([response('a.ics', 200, '<C:calendar-data>UID:uid-a.ics</C:calendar-data>'), `<D:response><D:href>${HREF}x.ics</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>`]);
    assert.deepEqual(checkMultiget(collection, ['a.ics', 'x.ics'], parseMultistatus(good, HREF)).problems, []);
    const wrong = listing([response('a.ics', 200, '<C:calendar-data>UID:someone-else</C:calendar-data>')]);
    assert.deepEqual(checkMultiget(collection, ['a.ics', 'x.ics'], parseMultistatus(wrong, HREF)).problems.map((p) => p.kind), ['wrong', 'short']);
  });

  void it('holds a retried write that finds its first attempt done as uncertain, not wrong', () => {
    assert.equal(retriedWriteUncertain('PUT', 412), true, 'If-None-Match or If-Match no longer holds');
    assert.equal(retriedWriteUncertain('DELETE', 404), true, 'already deleted');
    assert.equal(retriedWriteUncertain('PUT', 404), false, 'a PUT never answers 404 for its own first attempt');
    assert.equal(retriedWriteUncertain('DELETE', 500), false);
  });
});
