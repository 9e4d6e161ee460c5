// Tests for the listing cache: which listings are cacheable, entries used only at their change
// position and namespace prefix, and the byte bounds (per entry and in total, oldest use out first).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CollectionRecord } from '../store/types.ts';
import { listingKey, ListingCache } from './listing-cache.ts';
import { clark, dav } from './xml/names.ts';

const calendar: CollectionRecord = {
  id: 7, ownerId: 1, parentId: 2, path: '/calendars/alice/default/', kind: 'calendar', syncSeq: 40,
  objectCount: 600, childCount: 0, bytesUsed: 1, createdAt: 1000, updatedAt: 2000,
};
const parts = (...sizes: number[]): Buffer[] => sizes.map((n) => Buffer.alloc(n, 0x61));

void describe('listing cache', () => {
  void it('caches only record properties of calendars and address books', () => {
    const prop = (...names: string[]) => ({ kind: 'prop' as const, names: names.map((n) => dav(n)) });
    assert.notEqual(listingKey('propfind', 'e', calendar, prop('getetag', 'getcontenttype'), false), null);
    assert.equal(listingKey('propfind', 'e', calendar, prop('getetag', 'displayname'), false), null);
    assert.equal(listingKey('propfind', 'e', calendar, { kind: 'prop', names: [dav('getetag'), clark('urn:x', 'note')] }, false), null);
    assert.equal(listingKey('propfind', 'e', calendar, { kind: 'allprop', include: [] }, false), null);
    assert.equal(listingKey('propfind', 'e', calendar, prop(), false), null);
    assert.equal(listingKey('propfind', 'e', { ...calendar, kind: 'calendar-home' }, prop('getetag'), false), null);
    const key = listingKey('propfind', 'e', calendar, prop('getetag'), false);
    for (const other of [
      listingKey('sync', 'e', calendar, prop('getetag'), false),
      listingKey('propfind', 'f', calendar, prop('getetag'), false),
      listingKey('propfind', 'e', calendar, prop('getetag'), true),
      listingKey('propfind', 'e', { ...calendar, createdAt: 1001 }, prop('getetag'), false),
      listingKey('propfind', 'e', { ...calendar, path: '/calendars/alice/other/' }, prop('getetag'), false),
    ]) assert.notEqual(other, key);
  });

  void it('answers only at the change position and prefix it was listed with', () => {
    const cache = new ListingCache(1000, 500);
    cache.set('k', 40, 'd', parts(10, 20));
    assert.equal(cache.get('k', 40, 'D'), undefined);
    cache.set('k', 40, 'd', parts(10, 20));
    assert.equal(cache.get('k', 40, 'd')?.length, 2);
    assert.equal(cache.get('k', 41, 'd'), undefined);
    // The stale entry is gone, even for its old position.
    assert.equal(cache.get('k', 40, 'd'), undefined);
    assert.equal(cache.bytes, 0);
  });

  void it('stays within its byte bounds, dropping the least recently used first', () => {
    const cache = new ListingCache(1000, 500);
    cache.set('big', 1, 'd', parts(501));
    assert.equal(cache.get('big', 1, 'd'), undefined);
    cache.set('a', 1, 'd', parts(400));
    cache.set('b', 1, 'd', parts(400));
    assert.ok(cache.get('a', 1, 'd'));
    cache.set('c', 1, 'd', parts(400));
    assert.equal(cache.bytes, 800);
    assert.equal(cache.get('b', 1, 'd'), undefined);
    assert.ok(cache.get('a', 1, 'd'));
    assert.ok(cache.get('c', 1, 'd'));
  });
});
