// Thunderbird (calendar provider and CardDAV address book): detectCalendars, the per-calendar check
// chain, sync-collection/ctag refresh, writes with the single-href re-read, 409/412 conflict handling.
import { randomUUID } from 'node:crypto';
import { caldav, carddav, cs, dav } from '../../../src/dav/xml/names.ts';
import { expectMultistatus, expectStatus, expectThat, memberAt, type ClientLifecycle, type Step } from '../lifecycle.ts';
import { event } from '../payloads.ts';
import { expectNoPhantomDeletions, expectRetryLater, whileStoreLocked } from '../trouble.ts';

import { bareEtag, componentNames, privileges, propHref, propText, resourceTypes, supportedReports, type Answer, type ClientSession, type Multistatus } from '../session.ts';

const f = (name: string): string => `thunderbird/${name}.http`;
const DETECT = f('01-propfind-detect-collection');
const HOME = f('02-propfind-calendar-home-depth1');
const CHECK_TYPE = f('03-propfind-calendar-check-resourcetype');
const OPTIONS = f('04-options-calendar');
const CTAG = f('05-propfind-getctag');
const ETAGS = f('06-propfind-etags-depth1');
const SYNC = f('07-report-sync-collection-initial');
const MULTIGET = f('08-report-calendar-multiget');
const CREATE = f('09-put-item-create-if-none-match');
const MODIFY = f('10-put-item-modify-if-match');
const DELETE = f('11-delete-item-if-match');
const CARD_DISCOVER = f('12-carddav-propfind-discovery');
const CARD_TOKEN = f('13-carddav-propfind-sync-token');
const CARD_SYNC = f('14-carddav-report-sync-collection');
const CARD_MULTIGET = f('15-carddav-report-multiget');
const CARD_PUT = f('16-carddav-put-no-precondition');

const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Thunderbird/140.0';
const PRODID = '-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN';
const hrefOf = (client: ClientSession, name: string): string => `${client.context.calendar}${name}.ics`;

function withToken(token: string): (body: string) => string {
  return (body) => body.replace('<sync-token/>', `<sync-token>${token}</sync-token>`);
}

/**
 * The items Thunderbird takes from a sync or etag answer: collections answered 200 are ignored,
 * anything whose getcontenttype does not start with text/calendar is ignored (the sync path tolerates
 * a missing or text/plain type for .ics hrefs only). Returns href → etag of what it would fetch.
 */
function itemsThunderbirdSees(multistatus: Multistatus, syncPath: boolean): Map<string, string> {
  const items = new Map<string, string>();
  for (const member of multistatus.members) {
    if (member.status === 404 || resourceTypes(member).includes(dav('collection'))) continue;
    const type = propText(member, dav('getcontenttype'));
    const acceptable = type?.startsWith('text/calendar') === true || (syncPath && member.href.endsWith('.ics') && (type === undefined || type.startsWith('text/plain')));
    const etag = propText(member, dav('getetag'));
    if (acceptable && etag !== undefined) items.set(member.href, bareEtag(etag) ?? etag);
  }
  return items;
}

async function multigetOne(client: ClientSession, name: string): Promise<{ answer: Answer; data: string; etag: string | undefined }> {
  // After each PUT Thunderbird re-reads the item with a single-href multiget (08 with one href).
  const answer = await client.replay(MULTIGET, { body: (b) => b.replace(/<D:href>[^<]*<\/D:href>/u, ''), with: { object: name } });
  const member = memberAt(expectMultistatus(answer, 'single-href multiget'), hrefOf(client, name), answer);
  return { answer, data: propText(member, caldav('calendar-data')) ?? '', etag: bareEtag(propText(member, dav('getetag'))) };
}

const steps: Step[] = [
  {
    title: 'detectCalendars on the URL the user typed',
    phase: 'discovery',
    files: [DETECT],
    checks: 'Depth 0 on the base URL gives current-user-principal; the same PROPFIND on the principal gives calendar-home-set',
    async run(client) {
      const answer = await client.replay(DETECT);
      const principal = propHref(memberAt(expectMultistatus(answer, 'detect PROPFIND'), client.context['user-given-url'] ?? '', answer), dav('current-user-principal'));
      expectThat(principal !== undefined, 'current-user-principal', answer);
      client.learn({ principal });
      const onPrincipal = await client.replay(DETECT, { with: { 'user-given-url': principal } });
      const member = memberAt(expectMultistatus(onPrincipal, 'PROPFIND on the principal'), principal, onPrincipal);
      const home = propHref(member, caldav('calendar-home-set'));
      expectThat(home !== undefined, 'calendar-home-set', onPrincipal);
      expectThat(!resourceTypes(member).includes(caldav('calendar')), 'the principal is not a calendar', onPrincipal);
      client.learn({ 'calendar-home': home });
    },
  },
  {
    title: 'calendar home, Depth 1',
    phase: 'listing',
    files: [HOME],
    checks: 'children with resourcetype C:calendar are offered, with displayname, calendar-color and write privileges',
    async run(client) {
      const answer = await client.replay(HOME);
      const calendars = expectMultistatus(answer, 'home PROPFIND').members.filter((m) => resourceTypes(m).includes(caldav('calendar')));
      expectThat(calendars.length >= 1, 'at least one calendar', answer);
      const calendar = calendars[0];
      client.learn({ calendar: calendar?.href });
      expectThat((propText(calendar, dav('displayname')) ?? '') !== '', 'displayname', answer);
      const granted = privileges(calendar);
      expectThat(granted.includes(dav('write')) || granted.includes(dav('all')), 'write privilege (else the calendar is read-only)', answer);
    },
  },
  {
    title: 'checkDavResourceType and checkServerCaps',
    phase: 'account setup',
    files: [CHECK_TYPE, OPTIONS],
    checks: 'the calendar is a C:calendar with getctag and sync-collection in supported-report-set; OPTIONS lists calendar-access in DAV',
    async run(client) {
      const answer = await client.replay(CHECK_TYPE);
      const calendar = memberAt(expectMultistatus(answer, 'resourcetype PROPFIND'), client.context.calendar ?? '', answer);
      expectThat(resourceTypes(calendar).includes(caldav('calendar')), 'resourcetype C:calendar', answer);
      expectThat(propText(calendar, cs('getctag')) !== undefined, 'getctag', answer);
      expectThat(supportedReports(calendar).includes(dav('sync-collection')), 'sync-collection in supported-report-set (Thunderbird then syncs with it)', answer);
      expectThat(componentNames(calendar, caldav('supported-calendar-component-set')).includes('VTODO'), 'VTODO supported (tasks)', answer);
      const options = await client.replay(OPTIONS);
      expectStatus(options, [200, 204], 'OPTIONS');
      expectThat((options.headers.dav ?? '').includes('calendar-access'), 'DAV header with calendar-access', options);
    },
  },
  {
    title: 'initial sync-collection (Depth 1 and sync-level 1)',
    phase: 'sync',
    files: [SYNC],
    checks: 'an empty `<sync-token/>` answers 207 with a token and no items',
    async run(client) {
      const answer = await client.replay(SYNC);
      const multistatus = expectMultistatus(answer, 'initial sync-collection');
      expectThat(multistatus.syncToken !== undefined, 'a sync-token', answer);
      expectThat(itemsThunderbirdSees(multistatus, true).size === 0, 'no items yet', answer);
      client.keep('token', multistatus.syncToken);
    },
  },
  {
    title: 'create with If-None-Match, then the single-href re-read',
    phase: 'write',
    files: [CREATE, MULTIGET],
    checks: 'PUT answers 200/201/204; the multiget re-read returns the stored event and its etag',
    async run(client) {
      const object = randomUUID();
      const object2 = randomUUID();
      client.learn({ object, object2 });
      for (const name of [object, object2]) {
        const body = name === object2 ? event({ uid: object2, prodid: PRODID, summary: 'Dentist', start: '20250310T080000Z', end: '20250310T090000Z', extra: ['LOCATION:Main Street 1', 'CATEGORIES:Personal'] }) : undefined;
        const answer = await client.replay(CREATE, { with: { object: name }, ...(body === undefined ? {} : { body: () => body }) });
        expectStatus(answer, [200, 201, 204], 'PUT create');
        const reread = await multigetOne(client, name);
        expectThat(reread.data.includes(`UID:${name}`), 'the re-read returns the event', reread.answer);
        expectThat(reread.etag !== undefined, 'the re-read returns getetag', reread.answer);
        if (answer.headers.etag !== undefined) expectThat(bareEtag(answer.headers.etag) === reread.etag, 'PUT ETag equals the stored getetag', reread.answer);
        client.keep(`etag:${name}`, reread.etag);
      }
    },
  },
  {
    title: 'refresh: sync-collection with the kept token',
    phase: 'sync',
    files: [SYNC],
    checks: 'both items come back with getcontenttype text/calendar (Thunderbird ignores anything else) and the stored etags',
    async run(client) {
      const answer = await client.replay(SYNC, { body: withToken(client.recall('token')) });
      const multistatus = expectMultistatus(answer, 'sync-collection');
      const seen = itemsThunderbirdSees(multistatus, false);
      for (const name of [client.context.object ?? '', client.context.object2 ?? '']) {
        expectThat(seen.get(hrefOf(client, name)) === client.recall(`etag:${name}`), `${name} must be taken with its etag (getcontenttype text/calendar)`, answer);
      }
      client.keep('token', multistatus.syncToken);
    },
  },
  {
    title: 'refresh without sync: getctag, etag listing, multiget',
    phase: 'change detection',
    files: [CTAG, ETAGS, MULTIGET],
    checks: 'getctag answered; the Depth-1 listing gives both items as text/calendar with etags (the collection is skipped); multiget of both returns calendar-data',
    async run(client) {
      const ctag = await client.replay(CTAG);
      expectThat(propText(memberAt(expectMultistatus(ctag, 'getctag'), client.context.calendar ?? '', ctag), cs('getctag')) !== undefined, 'getctag', ctag);
      const listing = await client.replay(ETAGS);
      const seen = itemsThunderbirdSees(expectMultistatus(listing, 'etag listing'), false);
      expectThat(seen.size === 2, `two items expected, Thunderbird would take ${seen.size}`, listing);
      const answer = await client.replay(MULTIGET);
      const multistatus = expectMultistatus(answer, 'calendar-multiget (Depth 1)');
      for (const name of [client.context.object ?? '', client.context.object2 ?? '']) {
        expectThat(propText(memberAt(multistatus, hrefOf(client, name), answer), caldav('calendar-data'))?.includes(`UID:${name}`) === true, `calendar-data of ${name}`, answer);
      }
    },
  },
  {
    title: 'modify with If-Match',
    phase: 'write',
    files: [MODIFY, MULTIGET],
    checks: 'PUT with the stored etag answers 2xx; the re-read shows the change and a new etag',
    async run(client) {
      const name = client.context.object ?? '';
      const etag = client.recall(`etag:${name}`);
      const answer = await client.replay(MODIFY, { with: { etag }, body: (b) => b.replace('SUMMARY:Test', 'SUMMARY:Test (edited)') });
      expectStatus(answer, [200, 201, 204], 'PUT modify');
      const reread = await multigetOne(client, name);
      expectThat(reread.data.includes('SUMMARY:Test (edited)') && reread.etag !== etag, 'the change and a new etag', reread.answer);
      client.keep(`stale:${name}`, etag);
      client.keep(`etag:${name}`, reread.etag);
    },
  },
  {
    title: 'modify with a stale etag',
    phase: 'conflict',
    files: [MODIFY],
    checks: 'answers 412 (or 409), which Thunderbird turns into an overwrite question; nothing is stored',
    async run(client) {
      const name = client.context.object ?? '';
      const answer = await client.replay(MODIFY, { with: { etag: client.recall(`stale:${name}`) }, body: (b) => b.replace('SUMMARY:Test', 'SUMMARY:Lost') });
      expectStatus(answer, [409, 412], 'stale If-Match');
      const reread = await multigetOne(client, name);
      expectThat(!reread.data.includes('SUMMARY:Lost'), 'the refused write must not be stored', reread.answer);
    },
  },
  {
    title: 'delete with If-Match, and delete of an item already gone',
    phase: 'conflict',
    files: [DELETE],
    checks: 'stale etag → 412, HEAD → 200 (still there); current etag → 204; again → 404 or 412 and HEAD → 404 (already deleted)',
    async run(client) {
      const name = client.context.object ?? '';
      const href = hrefOf(client, name);
      const stale = await client.replay(DELETE, { with: { etag: client.recall(`stale:${name}`) } });
      expectStatus(stale, [409, 412], 'DELETE with a stale etag');
      expectStatus(await client.request('HEAD', href, { 'User-Agent': UA }), [200], 'HEAD after the refused delete');
      const current = await client.replay(DELETE, { with: { etag: client.recall(`etag:${name}`) } });
      expectStatus(current, [200, 204], 'DELETE');
      const again = await client.replay(DELETE, { with: { etag: client.recall(`etag:${name}`) } });
      expectStatus(again, [404, 412], 'DELETE of a deleted item');
      expectStatus(await client.request('HEAD', href, { 'User-Agent': UA }), [404], 'HEAD after the delete');
    },
  },
  {
    title: 'sync-collection after delete, and an invalid token',
    phase: 'sync',
    files: [SYNC],
    checks: 'the deleted item is a 404 member; an unissued token answers a 4xx that is not the bare `<D:error xmlns:D="DAV:"/>` rate-limit body, so Thunderbird resets the token',
    async run(client) {
      const answer = await client.replay(SYNC, { body: withToken(client.recall('token')) });
      const multistatus = expectMultistatus(answer, 'sync-collection');
      expectThat(memberAt(multistatus, hrefOf(client, client.context.object ?? ''), answer).status === 404, 'deleted item as 404', answer);
      client.keep('token', multistatus.syncToken);
      const bogus = await client.replay(SYNC, { body: withToken(`${client.recall('token')}x`) });
      expectThat(bogus.status >= 400 && bogus.status < 500 && bogus.status !== 429, `an unissued token must be a 4xx other than 429 (got ${bogus.status})`, bogus);
      expectThat(!bogus.text.includes('<D:error xmlns:D="DAV:"/>'), 'the body must not look like Google’s rate-limit answer', bogus);
      expectThat(/valid-sync-token/u.test(bogus.text), 'DAV:valid-sync-token named', bogus);
    },
  },
  {
    title: 'store locked by another process (backup, migration)',
    phase: 'trouble',
    files: [MODIFY, SYNC],
    checks: 'a modify answers 503 + Retry-After ("server not available": the local change is kept), not 409/412 (an overwrite question) or 401/403 (an auth error); the sync with the token is not a 4xx (which resets the token) and reports no removals; afterwards the modify succeeds',
    async run(client, server) {
      const name = client.context.object2 ?? '';
      const modify = (): Promise<Answer> => client.replay(MODIFY, { with: { object: name, etag: client.recall(`etag:${name}`) }, body: (b) => b.replace('SUMMARY:Test', 'SUMMARY:Edited during maintenance') });
      await whileStoreLocked(server, async () => {
        expectRetryLater(await modify(), 'PUT modify');
        const sync = await client.replay(SYNC, { body: withToken(client.recall('token')) });
        expectThat(sync.status === 207 || sync.status >= 500, `sync while locked must be 207 or 5xx, never a 4xx (got ${sync.status})`, sync);
        if (sync.status === 207) expectNoPhantomDeletions(expectMultistatus(sync, 'sync while locked'), sync);
      });
      expectStatus(await modify(), [200, 201, 204], 'the same modify after the lock');
    },
  },
  {
    title: 'address book discovery',
    phase: 'contacts',
    files: [CARD_DISCOVER],
    checks: 'the user URL gives current-user-principal; the principal gives addressbook-home-set; the home lists address books with privileges',
    async run(client) {
      const answer = await client.replay(CARD_DISCOVER);
      expectThat(propHref(memberAt(expectMultistatus(answer, 'CardDAV discovery'), client.context['user-given-url'] ?? '', answer), dav('current-user-principal')) === client.context.principal, 'current-user-principal', answer);
      // CardDAVUtils.detectAddressBooks then asks the principal and the home (README-described bodies).
      const headers = { Depth: '0', 'Content-Type': 'text/xml', 'User-Agent': UA };
      const principal = await client.request('PROPFIND', client.context.principal ?? '', headers, '<propfind xmlns="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><prop><card:addressbook-home-set/></prop></propfind>');
      const home = propHref(memberAt(expectMultistatus(principal, 'principal PROPFIND'), client.context.principal ?? '', principal), carddav('addressbook-home-set'));
      expectThat(home !== undefined, 'addressbook-home-set', principal);
      const listing = await client.request('PROPFIND', home, { ...headers, Depth: '1' }, '<propfind xmlns="DAV:"><prop><resourcetype/><displayname/><current-user-privilege-set/></prop></propfind>');
      const book = expectMultistatus(listing, 'home Depth 1').members.find((m) => resourceTypes(m).includes(carddav('addressbook')));
      expectThat(book !== undefined && (propText(book, dav('displayname')) ?? '') !== '', 'an address book with a displayname', listing);
      expectThat(privileges(book).some((p) => p === dav('write') || p === dav('all')), 'write privilege', listing);
      client.learn({ 'addressbook-home': home, addressbook: book.href });
    },
  },
  {
    title: 'address book token, PUT without precondition, multiget re-read',
    phase: 'contacts',
    files: [CARD_TOKEN, CARD_PUT, CARD_MULTIGET],
    checks: 'Depth-0 PROPFIND gives sync-token and getctag; a PUT with no If-Match/If-None-Match answers < 400; the re-read returns the card',
    async run(client) {
      const tokenAnswer = await client.replay(CARD_TOKEN);
      const book = memberAt(expectMultistatus(tokenAnswer, 'token PROPFIND'), client.context.addressbook ?? '', tokenAnswer);
      const token = propText(book, dav('sync-token'));
      expectThat(token !== undefined && propText(book, cs('getctag')) !== undefined, 'sync-token and getctag', tokenAnswer);
      client.keep('card-token', token);
      const object = randomUUID();
      client.learn({ object });
      const put = await client.replay(CARD_PUT);
      expectThat(put.status < 400, `PUT must succeed (got ${put.status})`, put);
      const reread = await client.replay(CARD_MULTIGET);
      const member = memberAt(expectMultistatus(reread, 'addressbook-multiget'), `${client.context.addressbook ?? ''}${object}.vcf`, reread);
      expectThat(propText(member, carddav('address-data'))?.includes('FN:Test Person') === true, 'address-data', reread);
    },
  },
  {
    title: 'address book sync-collection with address-data inline',
    phase: 'contacts',
    files: [CARD_SYNC, CARD_PUT],
    checks: 'the kept token returns the new card with getetag and address-data inline; an overwrite PUT without precondition then succeeds too',
    async run(client) {
      const answer = await client.replay(CARD_SYNC, { with: { 'sync-token': client.recall('card-token') } });
      const multistatus = expectMultistatus(answer, 'CardDAV sync-collection');
      const member = memberAt(multistatus, `${client.context.addressbook ?? ''}${client.context.object ?? ''}.vcf`, answer);
      expectThat(propText(member, dav('getetag')) !== undefined, 'getetag', answer);
      expectThat(propText(member, carddav('address-data'))?.includes(`UID:${client.context.object ?? ''}`) === true, 'address-data inline', answer);
      const overwrite = await client.replay(CARD_PUT, { body: (b) => b.replace('FN:Test Person', 'FN:Test Person Jr.') });
      expectThat(overwrite.status < 400, `overwrite without precondition must succeed (got ${overwrite.status})`, overwrite);
      const del = await client.request('DELETE', `${client.context.addressbook ?? ''}${client.context.object ?? ''}.vcf`, { 'User-Agent': UA });
      expectStatus(del, [200, 204], 'DELETE without If-Match');
    },
  },
];

export const thunderbird: ClientLifecycle = {
  id: 'thunderbird',
  name: 'Thunderbird',
  represents: 'Thunderbird 140 (releases-comm-central @ cf9726f5): CalDAV provider and CardDAV address book',
  user: 'bird',
  displayName: 'Bert Vogel',
  password: 'bird-secret',
  initialContext: { 'user-given-url': '/' },
  steps,
  quirks: [
    { quirk: 'Ignores items whose getcontenttype does not start with text/calendar', accommodation: 'Calendar objects always answer getcontenttype `text/calendar; charset=utf-8` (also in sync-collection and Depth-1 listings).' },
    { quirk: 'Treats a 403 whose body is exactly `<D:error xmlns:D="DAV:"/>` as rate limiting', accommodation: 'An invalid sync token is refused with a body naming DAV:valid-sync-token, so the client resets its token instead of waiting.' },
    { quirk: 'Sends sync-collection with both Depth: 1 and `<sync-level>1`, and multiget with Depth: 1', accommodation: 'Depth is ignored where the body decides.' },
    { quirk: 'CalDAV PROPFIND bodies use single-quoted namespace attributes; CardDAV bodies keep template-literal indentation', accommodation: 'Parsed as ordinary XML; whitespace around elements is ignored.' },
    { quirk: 'CardDAV PUT and DELETE carry no If-Match or If-None-Match', accommodation: 'Unconditional writes are accepted.' },
  ],
};
