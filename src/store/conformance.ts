// The store conformance suite: every Store backend must pass it unchanged (DESIGN.md §4), so what a
// client can observe is identical on SQLite and PostgreSQL. Backends call runStoreConformance with a
// factory for a fresh, empty store. Imports only the store contract and node:test.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlreadyExists, EtagMismatch, NotFound, UidConflict, UserExists } from './errors.ts';
import { contentEtag } from './etag.ts';
import type { HomeLayout, Store } from './store.ts';

export interface StoreFixture {
  readonly store: Store;
  /** Closes and reopens the same database (to check durability and the epoch). */
  reopen(): Promise<Store>;
  dispose(): Promise<void>;
}

const bytes = (text: string): Uint8Array => Buffer.from(text, 'utf8');

function homes(name: string): HomeLayout[] {
  return [
    { path: `/calendars/${name}/`, kind: 'calendar-home', children: [{ name: 'default', kind: 'calendar', properties: [{ op: 'set', name: '{DAV:}displayname', xml: '<d:displayname xmlns:d="DAV:">Calendar</d:displayname>' }] }] },
    { path: `/files/${name}/`, kind: 'files-home', children: [] },
  ];
}

export function runStoreConformance(backend: string, create: () => Promise<StoreFixture>): void {
  void describe(`store conformance: ${backend}`, () => {
    async function withStore(fn: (store: Store, fixture: StoreFixture) => Promise<void>): Promise<void> {
      const fixture = await create();
      try {
        await fn(fixture.store, fixture);
      } finally {
        await fixture.dispose();
      }
    }

    async function userWithHomes(store: Store, name = 'alice'): Promise<number> {
      const user = await store.createUser({ name, email: `${name}@example.com`, displayName: null, passwordHash: 'h' });
      await store.ensureHomes(user.id, homes(name));
      return user.id;
    }

    void it('creates, lists and deletes users; refuses a duplicate name', () =>
      withStore(async (store) => {
        await store.createUser({ name: 'alice', email: null, displayName: 'Alice', passwordHash: 'x' });
        await store.createUser({ name: 'bob', email: 'b@example.com', displayName: null, passwordHash: null });
        await assert.rejects(store.createUser({ name: 'alice', email: null, displayName: null, passwordHash: 'y' }), UserExists);
        assert.deepEqual((await store.listUsers()).map((u) => u.name), ['alice', 'bob']);
        assert.equal((await store.getUser('alice'))?.displayName, 'Alice');
        assert.equal(await store.deleteUser('alice'), true);
        assert.equal(await store.deleteUser('alice'), false);
        assert.equal(await store.getUser('alice'), null);
      }));

    void it('bumps the credentials version on every credential change', () =>
      withStore(async (store) => {
        await store.createUser({ name: 'alice', email: null, displayName: null, passwordHash: 'old' });
        const v1 = (await store.lookupCredentials('alice'))!.credentialsVersion;
        assert.equal(await store.setPasswordHash('alice', 'new'), true);
        const afterPasswd = (await store.lookupCredentials('alice'))!;
        assert.equal(afterPasswd.passwordHash, 'new');
        assert.ok(afterPasswd.credentialsVersion > v1);
        await store.addAppPassword('alice', 'phone', 'app-hash');
        const afterAdd = (await store.lookupCredentials('alice'))!;
        assert.deepEqual(afterAdd.appPasswordHashes.map((a) => a.hash), ['app-hash']);
        assert.ok(afterAdd.credentialsVersion > afterPasswd.credentialsVersion);
        assert.deepEqual((await store.listAppPasswords('alice')).map((a) => a.label), ['phone']);
        assert.equal(await store.revokeAppPassword('alice', 'phone'), true);
        assert.equal(await store.revokeAppPassword('alice', 'phone'), false);
        const afterRevoke = (await store.lookupCredentials('alice'))!;
        assert.equal(afterRevoke.appPasswordHashes.length, 0);
        assert.ok(afterRevoke.credentialsVersion > afterAdd.credentialsVersion);
        assert.equal(await store.lookupCredentials('nobody'), null);
      }));

    void it('reads an account: the credentials lookupCredentials gives and the record getUser gives, current after every change', () =>
      withStore(async (store) => {
        await store.createUser({ name: 'alice', email: 'alice@example.org', displayName: 'Alice', passwordHash: 'old' });
        await store.createUser({ name: 'bob', email: null, displayName: null, passwordHash: null });
        const { user, ...credentials } = (await store.lookupAccount('alice'))!;
        assert.deepEqual(credentials, await store.lookupCredentials('alice'));
        assert.deepEqual(user, await store.getUser('alice'));
        assert.equal(user.email, 'alice@example.org');
        await store.setPasswordHash('alice', 'new');
        await store.addAppPassword('alice', 'phone', 'app-hash');
        await store.addAppPassword('alice', 'laptop', 'laptop-hash');
        const changed = (await store.lookupAccount('alice'))!;
        assert.equal(changed.passwordHash, 'new');
        assert.deepEqual(changed.appPasswordHashes.map((a) => a.hash), ['app-hash', 'laptop-hash']);
        assert.deepEqual(changed.appPasswordHashes, (await store.lookupCredentials('alice'))!.appPasswordHashes);
        assert.deepEqual(changed.user, await store.getUser('alice'));
        assert.ok(changed.credentialsVersion > credentials.credentialsVersion);
        const bob = (await store.lookupAccount('bob'))!;
        assert.deepEqual(bob.user, await store.getUser('bob'));
        assert.equal(bob.passwordHash, null);
        assert.equal(await store.lookupAccount('nobody'), null);
      }));

    void it('creates homes once, with their first collections and properties', () =>
      withStore(async (store) => {
        const id = await userWithHomes(store);
        await store.ensureHomes(id, homes('alice'));
        const home = (await store.getCollection('/calendars/alice/'))!;
        assert.equal(home.kind, 'calendar-home');
        const members = await store.listMembers(home.id);
        assert.deepEqual(members.collections.map((c) => c.path), ['/calendars/alice/default/']);
        const calendar = members.collections[0]!;
        const props = await store.getProperties({ kind: 'collection', collectionId: calendar.id });
        assert.deepEqual(props.map((p) => p.name), ['{DAV:}displayname']);
      }));

    void it('reads a collection and one member together, the body only when asked', () =>
      withStore(async (store) => {
        await userWithHomes(store);
        const calendar = (await store.getCollection('/calendars/alice/default/'))!;
        const body = bytes('BEGIN:VCALENDAR\r\nX-ODD: ünïcode\r\nEND:VCALENDAR\r\n');
        await store.putObject({ collectionId: calendar.id, name: 'a b.ics', body, contentType: 'text/calendar', metadata: { uid: 'u1', component: 'VEVENT' } });
        const plain = (await store.getMember('/calendars/alice/default/', 'a b.ics', false))!;
        assert.deepEqual(plain.collection, await store.getCollection('/calendars/alice/default/'));
        assert.deepEqual(plain.object, await store.getObject(calendar.id, 'a b.ics'));
        const withBody = (await store.getMember('/calendars/alice/default/', 'a b.ics', true))!;
        const stored = (await store.getObjectWithBody(calendar.id, 'a b.ics'))!;
        assert.deepEqual({ ...withBody.object, body: undefined }, { ...stored, body: undefined });
        assert.ok(withBody.object !== null && 'body' in withBody.object);
        assert.deepEqual(Buffer.from(withBody.object.body), Buffer.from(body));
        const absent = (await store.getMember('/calendars/alice/default/', 'missing.ics', true))!;
        assert.deepEqual(absent, { collection: plain.collection, object: null });
        assert.equal(await store.getMember('/calendars/alice/nothing/', 'a b.ics', false), null);
        const home = (await store.getMember('/calendars/alice/', 'default', false))!;
        assert.equal(home.collection.kind, 'calendar-home');
        assert.equal(home.object, null);
      }));

    void it('stores bodies byte for byte with a content ETag, and counts and logs every change', () =>
      withStore(async (store) => {
        await userWithHomes(store);
        const calendar = (await store.getCollection('/calendars/alice/default/'))!;
        const home = (await store.getCollection('/calendars/alice/'))!;
        const body = bytes('BEGIN:VCALENDAR\r\nX-ODD: ünïcode\r\nEND:VCALENDAR\r\n');
        const first = await store.putObject({ collectionId: calendar.id, name: 'a.ics', body, contentType: 'text/calendar', metadata: { uid: 'u1', component: 'VEVENT' } });
        assert.equal(first.created, true);
        assert.equal(first.object.etag, contentEtag(body));
        const stored = (await store.getObjectWithBody(calendar.id, 'a.ics'))!;
        assert.deepEqual(Buffer.from(stored.body), Buffer.from(body));
        const second = await store.putObject({ collectionId: calendar.id, name: 'a.ics', body: bytes('changed'), contentType: 'text/calendar', metadata: { uid: 'u1' } });
        assert.equal(second.created, false);
        assert.notEqual(second.object.etag, first.object.etag);
        const after = (await store.getCollection('/calendars/alice/default/'))!;
        assert.equal(after.objectCount, 1);
        assert.equal(after.bytesUsed, 'changed'.length);
        assert.ok(after.syncSeq > calendar.syncSeq);
        const log = await store.changesSince(calendar.id, calendar.syncSeq, 100);
        assert.deepEqual(log.changes.map((c) => [c.member, c.deleted]), [['a.ics', false], ['a.ics', false]]);
        assert.equal(log.currentSeq, after.syncSeq);
        const homeAfter = (await store.getCollection('/calendars/alice/'))!;
        assert.ok(homeAfter.syncSeq > home.syncSeq, 'a change inside a calendar marks the home changed');
      }));

    void it('compares and swaps on the ETag inside the write', () =>
      withStore(async (store) => {
        await userWithHomes(store);
        const files = (await store.getCollection('/files/alice/'))!;
        const { object } = await store.putObject({ collectionId: files.id, name: 'f', body: bytes('1'), contentType: 'text/plain', expect: { absent: true } });
        await assert.rejects(store.putObject({ collectionId: files.id, name: 'f', body: bytes('2'), contentType: 'text/plain', expect: { absent: true } }), EtagMismatch);
        await assert.rejects(store.putObject({ collectionId: files.id, name: 'f', body: bytes('2'), contentType: 'text/plain', expect: { etag: '"stale"' } }), EtagMismatch);
        await store.putObject({ collectionId: files.id, name: 'f', body: bytes('2'), contentType: 'text/plain', expect: { etag: object.etag } });
        await assert.rejects(store.deleteObject(files.id, 'f', { etag: object.etag }), EtagMismatch);
        assert.equal(Buffer.from((await store.getObjectWithBody(files.id, 'f'))!.body).toString(), '2');
        await assert.rejects(store.deleteObject(files.id, 'missing'), NotFound);
      }));

    void it('refuses a second object with the same UID in one collection, naming the first', () =>
      withStore(async (store) => {
        await userWithHomes(store);
        const calendar = (await store.getCollection('/calendars/alice/default/'))!;
        await store.putObject({ collectionId: calendar.id, name: 'one.ics', body: bytes('x'), contentType: 'text/calendar', metadata: { uid: 'same' } });
        await assert.rejects(
          store.putObject({ collectionId: calendar.id, name: 'two.ics', body: bytes('y'), contentType: 'text/calendar', metadata: { uid: 'same' } }),
          (error: unknown) => error instanceof UidConflict && error.existingName === 'one.ics' && error.collectionPath === '/calendars/alice/default/' && error.collectionKind === 'calendar',
        );
        assert.equal((await store.listMembers(calendar.id)).objects.length, 1);
      }));

    void it('finds query candidates by component type and indexed time bounds, and multiget bodies by name', () =>
      withStore(async (store) => {
        await userWithHomes(store);
        const calendar = (await store.getCollection('/calendars/alice/default/'))!;
        const put = (name: string, component: string, firstStart: number | null, lastEnd: number | null) =>
          store.putObject({ collectionId: calendar.id, name, body: bytes(name), contentType: 'text/calendar', metadata: { uid: name, component, firstStart, lastEnd } });
        await put('past.ics', 'VEVENT', 0, 100);
        await put('inside.ics', 'VEVENT', 150, 250);
        await put('future.ics', 'VEVENT', 400, 500);
        await put('forever.ics', 'VEVENT', 50, null);
        await put('unbounded-todo.ics', 'VTODO', null, null);
        const names = async (query: Parameters<Store['queryObjects']>[1]) => (await store.queryObjects(calendar.id, query)).map((o) => o.name);
        assert.deepEqual(await names({ overlapping: { start: 200, end: 300 } }), ['forever.ics', 'inside.ics', 'unbounded-todo.ics']);
        assert.deepEqual(await names({ componentType: 'VEVENT', overlapping: { start: 200, end: 300 } }), ['forever.ics', 'inside.ics']);
        // Bounds are a conservative prefilter, inclusive on both sides (RFC 4791 §9.9 lets an
        // instantaneous event at the range start, or a task due at its end, match).
        assert.deepEqual(await names({ componentType: 'VEVENT', overlapping: { start: 100, end: 150 } }), ['forever.ics', 'inside.ics', 'past.ics']);
        assert.deepEqual(await names({ componentType: 'VEVENT', overlapping: { start: 101, end: 149 } }), ['forever.ics']);
        assert.deepEqual(await names({ componentType: 'VTODO' }), ['unbounded-todo.ics']);
        // The caller's own prefilter: what it refuses may be left out; what it keeps comes with its body.
        const kept = await store.queryObjects(calendar.id, { overlapping: { start: 0, end: 1000 }, mayMatch: (o) => o.name !== 'inside.ics' && o.etag.length > 0 });
        assert.deepEqual(kept.map((o) => [o.name, Buffer.from(o.body).toString()]), [
          ['forever.ics', 'forever.ics'], ['future.ics', 'future.ics'], ['past.ics', 'past.ics'], ['unbounded-todo.ics', 'unbounded-todo.ics'],
        ]);
        assert.equal((await names({})).length, 5);
        const bodies = await store.getObjectsWithBodies(calendar.id, ['future.ics', 'missing.ics', 'past.ics']);
        assert.deepEqual(bodies.map((o) => [o.name, Buffer.from(o.body).toString()]).sort(), [['future.ics', 'future.ics'], ['past.ics', 'past.ics']]);
        // Any number of names (past SQL's parameter limits), any characters.
        const odd = 'Zoë "quoted" \\ back\\slash 😀.ics';
        await put(odd, 'VEVENT', 0, 1);
        const many = [...Array.from({ length: 1500 }, (_, i) => `absent-${i}.ics`), odd, 'past.ics'];
        assert.deepEqual((await store.getObjectsWithBodies(calendar.id, many)).map((o) => o.name).sort(), [odd, 'past.ics'].sort());
      }));

    void it('lists members with the change position of the same snapshot', () =>
      withStore(async (store) => {
        await userWithHomes(store);
        const calendar = (await store.getCollection('/calendars/alice/default/'))!;
        const before = await store.listMembers(calendar.id);
        assert.equal(before.syncSeq, calendar.syncSeq);
        await store.putObject({ collectionId: calendar.id, name: 'a.ics', body: bytes('a'), contentType: 'text/calendar', metadata: { uid: 'a', component: 'VEVENT' } });
        const after = await store.listMembers(calendar.id);
        assert.equal(after.syncSeq, (await store.getCollection('/calendars/alice/default/'))!.syncSeq);
        assert.ok(after.syncSeq > before.syncSeq);
        assert.deepEqual(after.objects.map((o) => o.name), ['a.ics']);
        assert.equal((await store.listMembers(calendar.id + 1000)).syncSeq, 0);
      }));

    void it('narrows a search-index listing by exact substrings, keeping rows without the marker', () =>
      withStore(async (store) => {
        const ownerId = await userWithHomes(store);
        const files = (await store.getCollection('/files/alice/'))!;
        const book = await store.createCollection({ ownerId, parentId: files.id, name: 'book', kind: 'addressbook' });
        const put = (name: string, searchIndex: string | null) =>
          store.putObject({ collectionId: book.id, name, body: bytes(name), contentType: 'text/vcard', metadata: { uid: name, component: 'VCARD', searchIndex } });
        await put('berg.vcf', '{"fn":["Anna Berg"],"m:":{"fn":["ANNA BERG"]}}');
        await put('both.vcf', '{"fn":["Bergé Fox"],"m:":{"fn":["BERGÉ FOX"]}}');
        await put('fox.vcf', '{"fn":["Fox"],"m:":{"fn":["FOX"]}}');
        await put('old.vcf', '{"fn":["Old"]}');
        await put('none.vcf', null);
        const names = async (clauses: string[][]) => (await store.listSearchIndex(book.id, { marker: '"m:":', clauses })).map((row) => row.name);
        assert.deepEqual((await store.listSearchIndex(book.id)).map((row) => row.name), ['berg.vcf', 'both.vcf', 'fox.vcf', 'none.vcf', 'old.vcf']);
        // Case-sensitive and literal: no folding, and % or _ are not wildcards.
        assert.deepEqual(await names([['BERG']]), ['berg.vcf', 'both.vcf', 'old.vcf']);
        assert.deepEqual(await names([['berg']]), ['old.vcf']);
        assert.deepEqual(await names([['B%G', 'F_X']]), ['old.vcf']);
        assert.deepEqual(await names([['BERG', 'FOX']]), ['berg.vcf', 'both.vcf', 'fox.vcf', 'old.vcf']);
        assert.deepEqual(await names([['BERG'], ['FOX']]), ['both.vcf', 'old.vcf']);
        assert.deepEqual(await names([['"ANNA BERG"']]), ['berg.vcf', 'old.vcf']);
        assert.deepEqual(await names([]), ['berg.vcf', 'both.vcf', 'fox.vcf', 'old.vcf']);
        assert.deepEqual(await names([[]]), ['old.vcf']);
        const row = (await store.listSearchIndex(book.id, { marker: '"m:":', clauses: [['FOX']] }))[0];
        assert.equal(row?.searchIndex, '{"fn":["Bergé Fox"],"m:":{"fn":["BERGÉ FOX"]}}');
      }));

    void it('reads the search indexes changed after a position, with the position, in one snapshot', () =>
      withStore(async (store) => {
        const ownerId = await userWithHomes(store);
        const files = (await store.getCollection('/files/alice/'))!;
        const book = await store.createCollection({ ownerId, parentId: files.id, name: 'book', kind: 'addressbook' });
        const other = await store.createCollection({ ownerId, parentId: files.id, name: 'other', kind: 'addressbook' });
        const put = (collectionId: number, name: string, searchIndex: string | null) =>
          store.putObject({ collectionId, name, body: bytes(`${name} ${String(searchIndex)}`), contentType: 'text/vcard', metadata: { uid: name, component: 'VCARD', searchIndex } });
        for (const name of ['keep', 'edit', 'gone', 'moved-out', 'bare']) await put(book.id, name, name === 'bare' ? null : `{"fn":["${name}"]}`);
        await put(other.id, 'moved-in', '{"fn":["moved-in"]}');
        const sorted = (rows: readonly { name: string; searchIndex: string | null }[]) => [...rows].sort((a, b) => a.name.localeCompare(b.name)).map((r) => [r.name, r.searchIndex]);

        const all = await store.searchIndexSince(book.id, 0);
        const atFill = (await store.getCollection('/files/alice/book/'))!;
        assert.equal(all.complete, true);
        assert.equal(all.currentSeq, atFill.syncSeq);
        assert.equal(all.createdAt, atFill.createdAt);
        assert.deepEqual(sorted(all.members), [['bare', null], ['edit', '{"fn":["edit"]}'], ['gone', '{"fn":["gone"]}'], ['keep', '{"fn":["keep"]}'], ['moved-out', '{"fn":["moved-out"]}']]);
        assert.deepEqual(all.removed, []);

        await put(book.id, 'edit', '{"fn":["edited"]}');
        await put(book.id, 'edit', '{"fn":["edited twice"]}');
        await store.deleteObject(book.id, 'gone');
        await put(book.id, 'brief', '{"fn":["brief"]}');
        await store.deleteObject(book.id, 'brief');
        await put(book.id, 'new', '{"fn":["new"]}');
        await store.moveObject(book.id, 'moved-out', { parentId: other.id, name: 'moved-out', replace: false });
        await store.moveObject(other.id, 'moved-in', { parentId: book.id, name: 'moved-in', replace: false });
        const delta = await store.searchIndexSince(book.id, all.currentSeq);
        assert.equal(delta.complete, false);
        assert.equal(delta.currentSeq, (await store.getCollection('/files/alice/book/'))!.syncSeq);
        assert.deepEqual(sorted(delta.members), [['edit', '{"fn":["edited twice"]}'], ['moved-in', '{"fn":["moved-in"]}'], ['new', '{"fn":["new"]}']]);
        assert.deepEqual([...delta.removed].sort(), ['brief', 'gone', 'moved-out']);
        const none = await store.searchIndexSince(book.id, delta.currentSeq);
        assert.deepEqual([none.complete, none.members, none.removed, none.currentSeq], [false, [], [], delta.currentSeq]);

        // A position the collection never reached, and one the pruned log no longer covers, read everything.
        const ahead = await store.searchIndexSince(book.id, delta.currentSeq + 100);
        assert.equal(ahead.complete, true);
        assert.deepEqual(sorted(ahead.members), [['bare', null], ['edit', '{"fn":["edited twice"]}'], ['keep', '{"fn":["keep"]}'], ['moved-in', '{"fn":["moved-in"]}'], ['new', '{"fn":["new"]}']]);
        await store.pruneChanges(Date.now() + 60_000);
        const pruned = await store.searchIndexSince(book.id, all.currentSeq);
        assert.equal(pruned.complete, true, 'the deletion of gone is no longer in the log');
        assert.deepEqual(sorted(pruned.members), sorted(ahead.members));
        const afterPrune = await store.searchIndexSince(book.id, pruned.currentSeq);
        assert.deepEqual([afterPrune.complete, afterPrune.members.length], [false, 0]);
        await assert.rejects(store.searchIndexSince(book.id + 1000, 0), NotFound);
      }));

    void it('narrows a free-busy candidate query (mayBeBusy) without ever dropping an object that may be busy', () =>
      withStore(async (store) => {
        await userWithHomes(store);
        const calendar = (await store.getCollection('/calendars/alice/default/'))!;
        const put = (name: string, mayBeBusy: boolean | undefined) =>
          store.putObject({ collectionId: calendar.id, name, body: bytes(name), contentType: 'text/calendar', metadata: { uid: name, component: 'VEVENT', firstStart: 0, lastEnd: 100, ...(mayBeBusy === undefined ? {} : { mayBeBusy }) } });
        await put('busy.ics', true);
        await put('unknown.ics', undefined);
        await put('transparent.ics', false);
        await put('made-busy.ics', false);
        await put('made-busy.ics', true);
        await store.moveObject(calendar.id, 'busy.ics', { parentId: calendar.id, name: 'moved.ics', replace: false });
        const names = (await store.queryObjects(calendar.id, { overlapping: { start: 50, end: 60 }, mayBeBusy: true })).map((o) => o.name);
        // A store may ignore the prefilter (the caller checks each object), but never drop these.
        for (const name of ['made-busy.ics', 'moved.ics', 'unknown.ics']) assert.ok(names.includes(name), `${name} is a candidate`);
        assert.ok(!names.includes('busy.ics'));
      }));

    void it('deletes objects with a tombstone in the change log', () =>
      withStore(async (store) => {
        await userWithHomes(store);
        const files = (await store.getCollection('/files/alice/'))!;
        await store.putObject({ collectionId: files.id, name: 'gone', body: bytes('x'), contentType: 'text/plain' });
        const before = (await store.getCollection('/files/alice/'))!;
        await store.deleteObject(files.id, 'gone');
        const log = await store.changesSince(files.id, before.syncSeq, 10);
        assert.deepEqual(log.changes.map((c) => [c.member, c.deleted]), [['gone', true]]);
        const after = (await store.getCollection('/files/alice/'))!;
        assert.equal(after.objectCount, 0);
        assert.equal(after.bytesUsed, 0);
      }));

    void it('prunes old tombstones and superseded entries, keeps each live member, and moves the horizon', () =>
      withStore(async (store) => {
        await userWithHomes(store);
        const files = (await store.getCollection('/files/alice/'))!;
        for (const name of ['keep', 'edit', 'gone']) await store.putObject({ collectionId: files.id, name, body: bytes(name), contentType: 'text/plain' });
        await store.putObject({ collectionId: files.id, name: 'edit', body: bytes('edited'), contentType: 'text/plain' });
        await store.deleteObject(files.id, 'gone');
        const before = (await store.getCollection('/files/alice/'))!;
        const { removed } = await store.pruneChanges(Date.now() + 60_000, 1);
        assert.equal(removed, 3, 'the first write of edit, the creation and the deletion of gone');
        const page = await store.syncChanges(files.id, 0, null);
        assert.deepEqual(page.changes.map((c) => c.member).sort(), ['edit', 'keep'], 'an initial sync still sees every live member');
        assert.ok(page.horizon > 0 && page.horizon <= before.syncSeq, 'tokens from before the pruned deletion are now unservable');
        assert.equal((await store.pruneChanges(Date.now() + 60_000)).removed, 0, 'nothing more to prune');
      }));

    void it('applies dead property changes all together', () =>
      withStore(async (store) => {
        await userWithHomes(store);
        const files = (await store.getCollection('/files/alice/'))!;
        const target = { kind: 'collection' as const, collectionId: files.id };
        await store.patchProperties(target, [
          { op: 'set', name: '{urn:x}a', xml: '<x:a xmlns:x="urn:x">1</x:a>' },
          { op: 'set', name: '{urn:x}b', xml: '<x:b xmlns:x="urn:x">2</x:b>' },
        ]);
        await store.patchProperties(target, [{ op: 'remove', name: '{urn:x}a' }, { op: 'set', name: '{urn:x}b', xml: '<x:b xmlns:x="urn:x">3</x:b>' }]);
        assert.deepEqual(await store.getProperties(target), [{ name: '{urn:x}b', xml: '<x:b xmlns:x="urn:x">3</x:b>' }]);
      }));

    void it('copies and moves objects and whole folder trees', () =>
      withStore(async (store, fixture) => {
        const ownerId = await userWithHomes(store);
        const files = (await store.getCollection('/files/alice/'))!;
        const dir = await store.createCollection({ ownerId, parentId: files.id, name: 'dir', kind: 'files' });
        const sub = await store.createCollection({ ownerId, parentId: dir.id, name: 'sub', kind: 'files' });
        await store.putObject({ collectionId: sub.id, name: 'leaf', body: bytes('leaf'), contentType: 'text/plain' });
        await store.patchProperties({ kind: 'collection', collectionId: sub.id }, [{ op: 'set', name: '{urn:x}p', xml: '<x:p xmlns:x="urn:x"/>' }]);
        await assert.rejects(store.createCollection({ ownerId, parentId: files.id, name: 'dir', kind: 'files' }), AlreadyExists);

        assert.deepEqual(await store.copyCollection(dir.id, { parentId: files.id, name: 'copy', replace: false }, true), { created: true });
        const copiedSub = (await store.getCollection('/files/alice/copy/sub/'))!;
        assert.equal(Buffer.from((await store.getObjectWithBody(copiedSub.id, 'leaf'))!.body).toString(), 'leaf');
        assert.equal((await store.getProperties({ kind: 'collection', collectionId: copiedSub.id })).length, 1);
        await assert.rejects(store.copyCollection(dir.id, { parentId: files.id, name: 'copy', replace: false }, true), AlreadyExists);

        assert.deepEqual(await store.moveCollection(dir.id, { parentId: files.id, name: 'moved', replace: false }), { created: true });
        assert.equal(await store.getCollection('/files/alice/dir/'), null);
        const movedSub = (await store.getCollection('/files/alice/moved/sub/'))!;
        assert.equal(movedSub.id, sub.id);
        assert.equal((await store.getObject(movedSub.id, 'leaf'))?.size, 4);

        assert.deepEqual(await store.moveObject(movedSub.id, 'leaf', { parentId: files.id, name: 'top', replace: false }), { created: true });
        assert.deepEqual(await store.copyObject(files.id, 'top', { parentId: movedSub.id, name: 'leaf', replace: false }), { created: true });
        assert.deepEqual(await store.copyObject(files.id, 'top', { parentId: movedSub.id, name: 'leaf', replace: true }), { created: false });

        // Overwriting a folder with MOVE replaces the whole tree in one step.
        assert.deepEqual(await store.moveCollection(copiedSub.id, { parentId: files.id, name: 'moved', replace: true }), { created: false });
        assert.equal(await store.getCollection('/files/alice/moved/sub/'), null);
        const listing = await store.listMembers(files.id);
        assert.deepEqual(listing.collections.map((c) => c.path), ['/files/alice/copy/', '/files/alice/moved/']);
        assert.deepEqual(listing.objects.map((o) => o.name), ['top']);

        const epoch = await store.epoch();
        const reopened = await fixture.reopen();
        assert.equal(await reopened.epoch(), epoch, 'the epoch survives a restart');
        assert.equal((await reopened.getObject(files.id, 'top'))?.size, 4, 'acknowledged writes survive a restart');
      }));

    void it('deletes a collection with everything inside it', () =>
      withStore(async (store) => {
        const ownerId = await userWithHomes(store);
        const files = (await store.getCollection('/files/alice/'))!;
        const dir = await store.createCollection({ ownerId, parentId: files.id, name: 'dir', kind: 'files' });
        const sub = await store.createCollection({ ownerId, parentId: dir.id, name: 'sub', kind: 'files' });
        await store.putObject({ collectionId: sub.id, name: 'x', body: bytes('x'), contentType: 'text/plain' });
        await store.deleteCollection(dir.id);
        assert.equal(await store.getCollection('/files/alice/dir/sub/'), null);
        assert.equal(await store.getObject(sub.id, 'x'), null);
        assert.equal((await store.getCollection('/files/alice/'))!.childCount, 0);
      }));
  });
}
