// vdirsyncer (storage/dav.py): principal and home discovery, full etag listing on every run (no ctag
// or sync token), get_multi, conditional writes, extended MKCOL and metadata PROPPATCH, vCard 4 multiget.
import { randomUUID } from 'node:crypto';
import { caldav, carddav, dav, ical } from '../../../src/dav/xml/names.ts';
import { expectMultistatus, expectStatus, expectThat, memberAt, type ClientLifecycle, type Step } from '../lifecycle.ts';
import { event, vcard3 } from '../payloads.ts';
import { expectRetryLater, whileStoreLocked } from '../trouble.ts';

import { bareEtag, propHref, propText, resourceTypes, type Answer, type ClientSession, type Multistatus } from '../session.ts';

const f = (name: string): string => `vdirsyncer/${name}.http`;
const FIND_PRINCIPAL = f('01-propfind-find-principal');
const HOME_SET = f('02-propfind-principal-calendar-home-set');
const COLLECTIONS = f('03-propfind-find-collections-depth1');
const LIST = f('04-propfind-list-etags-depth1');
const QUERY = f('05-report-calendar-query-timerange');
const MULTIGET = f('06-report-calendar-multiget');
const CARD_MULTIGET = f('07-report-addressbook-multiget-vcard4');
const CREATE = f('08-put-create-if-none-match');
const DELETE = f('09-delete-if-match');
const MKCOL = f('10-mkcol-calendar-extended');
const PROPPATCH = f('11-proppatch-set-color');

const UA = 'vdirsyncer/0.20.0';
const hrefOf = (client: ClientSession, name: string): string => `${client.context.calendar}${name}.ics`;

/** vdirsyncer's `_normalize_href`: compare hrefs percent-decoded. */
function normal(href: string): string {
  return decodeURIComponent(href);
}

/** dav.py `list()`: members without getetag, collections, and content types not fuzzily matching are skipped. Keys are normalised hrefs. */
function listed(multistatus: Multistatus, mediaType: string): Map<string, string> {
  const items = new Map<string, string>();
  for (const member of multistatus.members) {
    if (resourceTypes(member).includes(dav('collection'))) continue;
    const etag = propText(member, dav('getetag'));
    const type = propText(member, dav('getcontenttype')) ?? '';
    if (etag === undefined || !type.toLowerCase().includes(mediaType)) continue;
    items.set(normal(member.href), bareEtag(etag) ?? etag);
  }
  return items;
}

/** get_multi raises NotFound when a requested href is missing from the answer. */
function expectAllHrefs(multistatus: Multistatus, hrefs: readonly string[], answer: Answer): void {
  for (const href of hrefs) memberAt(multistatus, href, answer);
}

const steps: Step[] = [
  {
    title: 'find the principal, then the calendar home set',
    phase: 'discovery',
    files: [FIND_PRINCIPAL, HOME_SET],
    checks: 'current-user-principal on the configured URL; calendar-home-set on the principal (indented literal bodies with leading/trailing whitespace accepted)',
    async run(client) {
      const answer = await client.replay(FIND_PRINCIPAL);
      const principal = propHref(memberAt(expectMultistatus(answer, 'find principal'), client.context['user-given-url'] ?? '', answer), dav('current-user-principal'));
      expectThat(principal !== undefined, 'current-user-principal', answer);
      client.learn({ principal });
      const homeSet = await client.replay(HOME_SET);
      const home = propHref(memberAt(expectMultistatus(homeSet, 'home set'), principal, homeSet), caldav('calendar-home-set'));
      expectThat(home !== undefined, 'calendar-home-set', homeSet);
      client.learn({ 'calendar-home': home });
    },
  },
  {
    title: 'find collections, Depth 1, on the configured URL and on the home',
    phase: 'listing',
    files: [COLLECTIONS],
    checks: 'the configured URL answers 207 (no calendars there); the home lists its calendars by resourcetype',
    async run(client) {
      const onUrl = await client.replay(COLLECTIONS, { with: { 'calendar-home': client.context['user-given-url'] ?? '' } });
      expectMultistatus(onUrl, 'Depth 1 on the configured URL');
      const answer = await client.replay(COLLECTIONS);
      const calendar = expectMultistatus(answer, 'Depth 1 on the home').members.find((m) => resourceTypes(m).includes(caldav('calendar')));
      expectThat(calendar !== undefined, 'a calendar in the home', answer);
      client.learn({ calendar: calendar.href });
    },
  },
  {
    title: 'upload with If-None-Match',
    phase: 'write',
    files: [CREATE],
    checks: 'PUT text/calendar answers 201 with an ETag (also for a UID-named href holding "@"); the same name again answers 412 (a sync conflict)',
    async run(client) {
      // vdirsyncer names items after their UID when it only holds safe characters, '@' included
      // (imported events often have `…@google.com` UIDs); the href goes out with a raw '@'.
      const object = randomUUID();
      const object2 = `${randomUUID()}@example.org`;
      client.learn({ object, object2 });
      const first = await client.replay(CREATE);
      expectStatus(first, [201], 'PUT create');
      client.keep(`etag:${object}`, bareEtag(first.headers.etag));
      const body = event({ uid: object2, prodid: '-//khal//NONSGML khal 0.11//EN', summary: 'Climbing', start: '20250614T160000Z', end: '20250614T190000Z' });
      const second = await client.replay(CREATE, { with: { object: object2 }, body: () => body });
      expectStatus(second, [201], 'PUT create');
      client.keep(`etag:${object2}`, bareEtag(second.headers.etag));
      expectStatus(await client.replay(CREATE), [412], 'If-None-Match: * on an existing item');
    },
  },
  {
    title: 'list etags, Depth 1',
    phase: 'listing',
    files: [LIST],
    checks: 'both items listed with getetag equal to the PUT ETag and getcontenttype matching text/calendar; the collection is skipped',
    async run(client) {
      const answer = await client.replay(LIST);
      const items = listed(expectMultistatus(answer, 'etag listing'), 'text/calendar');
      expectThat(items.size === 2, `two items expected, vdirsyncer would take ${items.size}`, answer);
      for (const name of [client.context.object ?? '', client.context.object2 ?? '']) {
        expectThat(items.get(normal(hrefOf(client, name))) === client.recall(`etag:${name}`), `${name} listed with its ETag`, answer);
      }
    },
  },
  {
    title: 'calendar-query with start and end dates',
    phase: 'sync',
    files: [QUERY],
    checks: 'the 2025 VEVENT range lists both events with getetag and getcontenttype',
    async run(client) {
      const answer = await client.replay(QUERY);
      const items = listed(expectMultistatus(answer, 'calendar-query'), 'text/calendar');
      expectThat(items.size === 2, `two events expected, got ${items.size}`, answer);
    },
  },
  {
    title: 'get_multi',
    phase: 'multiget',
    files: [MULTIGET],
    checks: 'every requested href is in the answer (else NotFound) with calendar-data and getetag; no Depth header needed',
    async run(client) {
      const answer = await client.replay(MULTIGET);
      const multistatus = expectMultistatus(answer, 'calendar-multiget');
      const hrefs = [hrefOf(client, client.context.object ?? ''), hrefOf(client, client.context.object2 ?? '')];
      expectAllHrefs(multistatus, hrefs, answer);
      for (const member of multistatus.members) {
        expectThat(propText(member, caldav('calendar-data'))?.includes('BEGIN:VCALENDAR') === true && propText(member, dav('getetag')) !== undefined, `calendar-data and getetag for ${member.href}`, answer);
      }
    },
  },
  {
    title: 'update with If-Match, conflict with a stale one',
    phase: 'conflict',
    files: [CREATE],
    checks: 'If-Match with the listed ETag → 204 and a new ETag; the old ETag → 412 (PreconditionFailed → conflict resolution)',
    async run(client) {
      const name = client.context.object ?? '';
      const etag = client.recall(`etag:${name}`);
      const update = await client.replay(CREATE, { headers: { 'If-None-Match': null, 'If-Match': `"${etag}"` }, body: (b) => b.replace('SUMMARY:Test', 'SUMMARY:Test (synced)') });
      expectStatus(update, [200, 204], 'PUT with If-Match');
      const next = bareEtag(update.headers.etag);
      expectThat(next !== undefined && next !== etag, 'a new ETag', update);
      expectStatus(await client.replay(CREATE, { headers: { 'If-None-Match': null, 'If-Match': `"${etag}"` } }), [412], 'stale If-Match');
      client.keep(`stale:${name}`, etag);
      client.keep(`etag:${name}`, next);
    },
  },
  {
    title: 'delete with If-Match (with a Content-Type and no body)',
    phase: 'write',
    files: [DELETE, LIST, MULTIGET],
    checks: 'a stale ETag → 412; the current one → 204; the next listing no longer has the item; get_multi answers its href with 404',
    async run(client) {
      const name = client.context.object ?? '';
      expectStatus(await client.replay(DELETE, { with: { etag: client.recall(`stale:${name}`) } }), [412], 'DELETE with a stale ETag');
      expectStatus(await client.replay(DELETE, { with: { etag: client.recall(`etag:${name}`) } }), [200, 204], 'DELETE');
      const answer = await client.replay(LIST);
      const items = listed(expectMultistatus(answer, 'etag listing'), 'text/calendar');
      expectThat(!items.has(normal(hrefOf(client, name))) && items.size === 1, 'only the other item is left', answer);
      const multiget = await client.replay(MULTIGET);
      const gone = memberAt(expectMultistatus(multiget, 'get_multi with a deleted href'), hrefOf(client, name), multiget);
      expectThat(gone.status === 404 || gone.props.get(caldav('calendar-data'))?.status === 404, 'a deleted href is answered 404, not left out', multiget);
      memberAt(expectMultistatus(multiget, 'get_multi'), hrefOf(client, client.context.object2 ?? ''), multiget);
    },
  },
  {
    title: 'store locked by another process (backup, migration)',
    phase: 'trouble',
    files: [CREATE, LIST],
    checks: 'an upload answers 503 + Retry-After (the run aborts, nothing is lost); the etag listing stays complete or fails with 5xx — an item missing from a listing is deleted on the other side by the next sync; afterwards the upload succeeds',
    async run(client, server) {
      const name = client.context.object2 ?? '';
      const upload = (): Promise<Answer> => client.replay(CREATE, { with: { object: name }, headers: { 'If-None-Match': null, 'If-Match': `"${client.recall(`etag:${name}`)}"` }, body: (b) => b.replace('SUMMARY:Test', 'SUMMARY:Synced while locked') });
      await whileStoreLocked(server, async () => {
        expectRetryLater(await upload(), 'PUT');
        const listing = await client.replay(LIST);
        expectThat(listing.status === 207 || listing.status >= 500, `the listing while locked must be 207 or 5xx (got ${listing.status})`, listing);
        if (listing.status === 207) {
          const items = listed(expectMultistatus(listing, 'listing while locked'), 'text/calendar');
          expectThat(items.get(normal(hrefOf(client, name))) === client.recall(`etag:${name}`) && items.size === 1, 'the listing must stay complete and unchanged', listing);
        }
      });
      expectStatus(await upload(), [204], 'the same upload after the lock');
    },
  },
  {
    title: 'extended MKCOL of a calendar, then PROPPATCH colour',
    phase: 'collections',
    files: [MKCOL, PROPPATCH, COLLECTIONS],
    checks: 'MKCOL with resourcetype calendar answers 201; the home lists it as a calendar; PROPPATCH calendar-color → 207/200; the colour reads back; events can be stored in it',
    async run(client) {
      const collection = `vds-${randomUUID()}`;
      client.learn({ collection });
      const href = `${client.context['calendar-home'] ?? ''}${collection}/`;
      expectStatus(await client.replay(MKCOL), [201], 'extended MKCOL');
      const listing = await client.replay(COLLECTIONS);
      expectThat(resourceTypes(memberAt(expectMultistatus(listing, 'home'), href, listing)).includes(caldav('calendar')), 'the new collection is a calendar', listing);
      const patch = await client.replay(PROPPATCH, { with: { calendar: href } });
      expectStatus(patch, [200, 207], 'PROPPATCH');
      const meta = await client.request('PROPFIND', href, { Depth: '0', 'Content-Type': 'application/xml; charset=UTF-8', 'User-Agent': UA }, '<?xml version="1.0" encoding="utf-8" ?><propfind xmlns="DAV:"><prop><I:calendar-color xmlns:I="http://apple.com/ns/ical/"/></prop></propfind>');
      expectThat(propText(memberAt(expectMultistatus(meta, 'get_meta'), href, meta), ical('calendar-color')) === '#ff0000', 'calendar-color reads back', meta);
      const object = randomUUID();
      expectStatus(await client.replay(CREATE, { with: { calendar: href, object } }), [201], 'PUT into the new calendar');
    },
  },
  {
    title: 'vCard 4 multiget with a capitalised Content-Type attribute',
    phase: 'contacts',
    files: [CARD_MULTIGET],
    checks: 'a card stored as vCard 3 comes back as VERSION:4.0 when `Content-Type="text/vcard" version="4.0"` is asked (attribute matched case-insensitively)',
    async run(client) {
      const body = '\n    <propfind xmlns="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav">\n        <prop>\n            <c:addressbook-home-set />\n        </prop>\n    </propfind>\n    ';
      const homeSet = await client.request('PROPFIND', client.context.principal ?? '', { Depth: '0', 'Content-Type': 'application/xml; charset=UTF-8', 'User-Agent': UA }, body);
      const home = propHref(memberAt(expectMultistatus(homeSet, 'addressbook-home-set'), client.context.principal ?? '', homeSet), carddav('addressbook-home-set'));
      expectThat(home !== undefined, 'addressbook-home-set', homeSet);
      const books = await client.replay(COLLECTIONS, { with: { 'calendar-home': home } });
      const book = expectMultistatus(books, 'address book home').members.find((m) => resourceTypes(m).includes(carddav('addressbook')));
      expectThat(book !== undefined, 'an address book', books);
      client.learn({ addressbook: book.href });
      const object = randomUUID();
      const put = await client.request('PUT', `${book.href}${object}.vcf`, { 'Content-Type': 'text/vcard', 'If-None-Match': '*', 'User-Agent': UA }, vcard3({ uid: object, prodid: '-//vdirsyncer test//EN', given: 'Ada', family: 'Lovelace', email: 'ada@example.org' }));
      expectStatus(put, [201], 'PUT vCard 3');
      const answer = await client.replay(CARD_MULTIGET, { with: { object } });
      const member = memberAt(expectMultistatus(answer, 'addressbook-multiget'), `${book.href}${object}.vcf`, answer);
      const data = propText(member, carddav('address-data')) ?? '';
      expectThat(data.includes(`UID:${object}`), 'address-data returned', answer);
      expectThat(data.includes('VERSION:4.0'), 'vCard 4.0 must be honoured for the Content-Type attribute vdirsyncer sends', answer);
    },
  },
];

export const vdirsyncer: ClientLifecycle = {
  id: 'vdirsyncer',
  name: 'vdirsyncer',
  represents: 'vdirsyncer 0.20 (pimutils/vdirsyncer @ 0d69ab9b)',
  user: 'vds',
  displayName: 'Vera Sync',
  password: 'vds-secret',
  initialContext: { 'user-given-url': '/' },
  steps,
  quirks: [
    { quirk: 'XML bodies from indented Python literals, with leading newlines and trailing spaces', accommodation: 'Whitespace before the XML declaration or root and after the root is accepted.' },
    { quirk: 'Never uses getctag or sync tokens: lists every etag on every run', accommodation: 'Depth-1 listings answer getetag and getcontenttype for every item.' },
    { quirk: 'Raises NotFound when a multiget answer lacks a requested href', accommodation: 'Every requested href is answered, found or 404.' },
    { quirk: 'Creates calendars with extended MKCOL, not MKCALENDAR; sends a Content-Type on DELETE', accommodation: 'Extended MKCOL with a calendar resourcetype creates a calendar; DELETE ignores its (empty) body.' },
    { quirk: 'Asks vCard 4 with the attribute spelled `Content-Type`', accommodation: 'The address-data attributes are matched case-insensitively.' },
  ],
};
