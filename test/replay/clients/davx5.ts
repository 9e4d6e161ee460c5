// DAVx⁵ (Android, dav4jvm): DavResourceFinder discovery, HomeSetRefresher listing, SyncManager's
// capabilities → uploads → sync-collection → multiget cycle, MKCALENDAR/DELETE of collections, contacts.
import { randomUUID } from 'node:crypto';
import { caldav, carddav, cs, dav, ical } from '../../../src/dav/xml/names.ts';
import { attr, childElements } from '../../../src/dav/xml/tree.ts';
import { expectMultistatus, expectStatus, expectThat, memberAt, replayFollowing, type ClientLifecycle, type Step } from '../lifecycle.ts';
import { event, vcard4, viennaWeekly } from '../payloads.ts';
import { expectNoPhantomDeletions, expectRetryLater, whileStoreLocked } from '../trouble.ts';

import { bareEtag, componentNames, privileges, prop, propHref, propText, resourceTypes, supportedReports, type Answer, type ClientSession } from '../session.ts';

const f = (name: string): string => `davx5/${name}.http`;
const USER_URL = f('01-propfind-user-url-caldav');
const WELL_KNOWN = f('02-propfind-well-known-current-user-principal');
const OPTIONS = f('03-options-principal');
const HOME = f('04-propfind-calendar-home-depth1');
const CAPABILITIES = f('05-propfind-collection-capabilities');
const SYNC = f('06-report-sync-collection-initial');
const QUERY = f('07-report-calendar-query-vevent-timerange');
const MULTIGET = f('08-report-calendar-multiget');
const CARD_MEMBERS = f('09-propfind-addressbook-members-depth1');
const CARD_MULTIGET = f('10-report-addressbook-multiget-vcard4');
const CREATE = f('11-put-event-create-if-none-match');
const UPDATE = f('12-put-event-update-if-match');
const DELETE = f('13-delete-event-if-match');
const MKCALENDAR = f('14-mkcalendar');

const PRODID = 'DAVx5/4.5.3-ose ical4j/4.1.1';
const UA = 'DAVx5/4.5.3-ose (at.bitfire.davdroid)';
const hrefOf = (client: ClientSession, name: string): string => `${client.context.calendar}${name}.ics`;

/** DavCollection.reportChanges: the incremental request puts the kept token inside <sync-token>. */
function withToken(token: string): (body: string) => string {
  return (body) => body.replace('<sync-token />', `<sync-token>${token}</sync-token>`);
}

/** What SyncManager demands of every sync-collection answer before it trusts it. */
function readSync(answer: Answer, client: ClientSession): ReturnType<typeof expectMultistatus> {
  const multistatus = expectMultistatus(answer, 'sync-collection (DAVx5 requires 207)');
  expectThat(multistatus.syncToken !== undefined && multistatus.syncToken !== '', 'a sync-collection answer without a top-level sync-token is a hard error in DAVx5', answer);
  for (const member of multistatus.members) {
    if (member.status === 507) {
      expectThat(member.href === client.context.calendar, 'a 507 member must be the request-URI (truncation marker)', answer);
      continue;
    }
    if (member.status === 404 || resourceTypes(member).includes(dav('collection'))) continue;
    expectThat(member.href !== client.context.calendar, 'the collection itself must not be a member', answer);
    expectThat(propText(member, dav('getetag')) !== undefined, `successful member ${member.href} must carry getetag`, answer);
  }
  return multistatus;
}

async function capabilities(client: ClientSession): Promise<{ token: string; ctag: string }> {
  const answer = await client.replay(CAPABILITIES);
  const collection = memberAt(expectMultistatus(answer, 'capabilities PROPFIND'), client.context.calendar ?? '', answer);
  expectThat(supportedReports(collection).includes(dav('sync-collection')), 'supported-report-set must list sync-collection (else DAVx5 falls back to calendar-query)', answer);
  const token = propText(collection, dav('sync-token'));
  const ctag = propText(collection, cs('getctag'));
  expectThat(token !== undefined && ctag !== undefined, 'sync-token and getctag answered', answer);
  expectThat(propText(collection, caldav('max-resource-size')) !== undefined, 'CAL:max-resource-size answered (DAVx5 checks uploads against it)', answer);
  return { token, ctag };
}

const steps: Step[] = [
  {
    title: 'PROPFIND on the URL the user typed',
    phase: 'discovery',
    files: [USER_URL],
    checks: 'Depth 0 on the base URL answers 207 with current-user-principal; the same body on the principal gives calendar-home-set',
    async run(client) {
      const answer = await client.replay(USER_URL);
      const root = memberAt(expectMultistatus(answer, 'PROPFIND on the user URL'), client.context['user-given-url'] ?? '', answer);
      const principal = propHref(root, dav('current-user-principal'));
      expectThat(principal !== undefined, 'current-user-principal', answer);
      client.learn({ principal });
      const onPrincipal = await client.replay(USER_URL, { with: { 'user-given-url': principal } });
      const home = propHref(memberAt(expectMultistatus(onPrincipal, 'PROPFIND on the principal'), principal, onPrincipal), caldav('calendar-home-set'));
      expectThat(home !== undefined, 'calendar-home-set on the principal', onPrincipal);
      client.learn({ 'calendar-home': home });
    },
  },
  {
    title: '/.well-known/caldav current-user-principal',
    phase: 'discovery',
    files: [WELL_KNOWN],
    checks: 'the well-known URL redirects (or answers) to a 207 naming the same principal',
    async run(client) {
      const { final } = await replayFollowing(client, WELL_KNOWN);
      const multistatus = expectMultistatus(final, 'well-known PROPFIND');
      expectThat(propHref(multistatus.members[0], dav('current-user-principal')) === client.context.principal, 'same principal as from the base URL', final);
    },
  },
  {
    title: 'OPTIONS on the principal',
    phase: 'discovery',
    files: [OPTIONS],
    checks: 'the DAV header contains calendar-access and addressbook (DAVx5 rejects the principal otherwise)',
    async run(client) {
      const answer = await client.replay(OPTIONS);
      expectStatus(answer, [200, 204], 'OPTIONS');
      const classes = (answer.headers.dav ?? '').split(',').map((c) => c.trim());
      expectThat(classes.includes('calendar-access') && classes.includes('addressbook'), 'DAV: calendar-access, addressbook', answer);
    },
  },
  {
    title: 'calendar home, Depth 1',
    phase: 'listing',
    files: [HOME],
    checks: 'the calendars come back with resourcetype, displayname, component set and write privileges; the home itself is no calendar',
    async run(client) {
      const answer = await client.replay(HOME);
      const multistatus = expectMultistatus(answer, 'home PROPFIND');
      const home = memberAt(multistatus, client.context['calendar-home'] ?? '', answer);
      expectThat(!resourceTypes(home).includes(caldav('calendar')), 'the home is not a calendar', answer);
      const calendar = multistatus.members.find((m) => resourceTypes(m).includes(caldav('calendar')));
      expectThat(calendar !== undefined, 'at least one calendar', answer);
      client.learn({ calendar: calendar.href });
      expectThat((propText(calendar, dav('displayname')) ?? '') !== '', 'displayname', answer);
      expectThat(componentNames(calendar, caldav('supported-calendar-component-set')).includes('VEVENT'), 'component set with VEVENT', answer);
      const granted = privileges(calendar);
      expectThat(granted.includes(dav('write')) || granted.includes(dav('all')) || granted.includes(dav('write-content')), 'write privilege (DAVx5 marks the calendar read-only without it)', answer);
    },
  },
  {
    title: 'collection capabilities and initial sync-collection',
    phase: 'sync',
    files: [CAPABILITIES, SYNC],
    checks: 'sync-collection is advertised; Depth 0 + sync-level 1 with an empty token answers 207 with a top-level token',
    async run(client) {
      const { ctag } = await capabilities(client);
      client.keep('ctag', ctag);
      const answer = await client.replay(SYNC);
      const multistatus = readSync(answer, client);
      client.keep('token', multistatus.syncToken);
    },
  },
  {
    title: 'upload new events with If-None-Match: *',
    phase: 'write',
    files: [CREATE],
    checks: 'PUT answers 201 with an ETag header (DAVx5 stores it); a zoned weekly event is accepted too',
    async run(client) {
      const object = randomUUID();
      const object2 = randomUUID();
      client.learn({ object, object2 });
      const first = await client.replay(CREATE);
      expectStatus(first, [201], 'PUT create');
      client.keep(`etag:${object}`, bareEtag(first.headers.etag));
      const body = viennaWeekly({ uid: object2, prodid: PRODID, summary: 'Jour fixe', localStart: '20250303T093000', localEnd: '20250303T100000' });
      const second = await client.replay(CREATE, { with: { object: object2 }, body: () => body });
      expectStatus(second, [201], 'PUT create (zoned, recurring)');
      client.keep(`etag:${object2}`, bareEtag(second.headers.etag));
    },
  },
  {
    title: 'If-None-Match: * on an existing name',
    phase: 'conflict',
    files: [CREATE],
    checks: 'a second create of the same name answers 412 (DAVx5 ignores it and re-downloads), the stored item is untouched',
    async run(client) {
      const answer = await client.replay(CREATE, { body: (b) => b.replace('SUMMARY:Test', 'SUMMARY:Overwritten') });
      expectStatus(answer, [412], 'If-None-Match: * on an existing resource');
      const stored = await client.request('GET', hrefOf(client, client.context.object ?? ''), { 'User-Agent': UA });
      expectStatus(stored, [200], 'GET');
      expectThat(stored.text.includes('SUMMARY:Test\r\n') && !stored.text.includes('Overwritten'), 'the refused create must not be stored', stored);
      expectThat(bareEtag(stored.headers.etag) === client.recall(`etag:${client.context.object ?? ''}`), 'ETag unchanged', stored);
    },
  },
  {
    title: 'incremental sync-collection after uploads',
    phase: 'sync',
    files: [CAPABILITIES, SYNC],
    checks: 'the sync-token changed; the kept token returns both items, each with the getetag the PUT answered',
    async run(client) {
      const { token } = await capabilities(client);
      expectThat(token !== client.recall('token'), 'sync-token must change after uploads');
      const answer = await client.replay(SYNC, { body: withToken(client.recall('token')) });
      const multistatus = readSync(answer, client);
      for (const name of [client.context.object ?? '', client.context.object2 ?? '']) {
        const member = memberAt(multistatus, hrefOf(client, name), answer);
        expectThat(bareEtag(propText(member, dav('getetag'))) === client.recall(`etag:${name}`), `getetag of ${name} equals the PUT ETag`, answer);
      }
      client.keep('token', multistatus.syncToken);
    },
  },
  {
    title: 'calendar-query with a start-only time-range',
    phase: 'sync',
    files: [QUERY],
    checks: 'the VEVENT query from 2025-03-01 (no end) finds both events with getetag',
    async run(client) {
      const answer = await client.replay(QUERY);
      const multistatus = expectMultistatus(answer, 'calendar-query');
      const hrefs = multistatus.members.map((m) => m.href).sort();
      expectThat(JSON.stringify(hrefs) === JSON.stringify([hrefOf(client, client.context.object ?? ''), hrefOf(client, client.context.object2 ?? '')].sort()), 'both events expected', answer);
      expectThat(multistatus.members.every((m) => propText(m, dav('getetag')) !== undefined), 'getetag on every match', answer);
    },
  },
  {
    title: 'calendar-multiget (no Depth header)',
    phase: 'multiget',
    files: [MULTIGET],
    checks: 'both items with calendar-data, getetag and getcontenttype text/calendar; the unknown schedule-tag is a 404 propstat, not an error',
    async run(client) {
      const answer = await client.replay(MULTIGET);
      const multistatus = expectMultistatus(answer, 'calendar-multiget');
      for (const name of [client.context.object ?? '', client.context.object2 ?? '']) {
        const member = memberAt(multistatus, hrefOf(client, name), answer);
        expectThat(propText(member, caldav('calendar-data'))?.includes(`UID:${name}`) === true, `calendar-data of ${name}`, answer);
        expectThat(propText(member, dav('getcontenttype'))?.startsWith('text/calendar') === true, 'getcontenttype', answer);
        expectThat(bareEtag(propText(member, dav('getetag'))) === client.recall(`etag:${name}`), 'getetag', answer);
        const tag = member.props.get(caldav('schedule-tag'));
        expectThat(tag === undefined || tag.status === 404 || tag.status === 200, 'schedule-tag: 200 or 404', answer);
      }
    },
  },
  {
    title: 'update with If-Match and Push-Dont-Notify',
    phase: 'write',
    files: [UPDATE],
    checks: 'PUT with the quoted ETag answers 2xx (204) with a new ETag; the Push-Dont-Notify header is harmless',
    async run(client) {
      const name = client.context.object ?? '';
      const etag = client.recall(`etag:${name}`);
      const answer = await client.replay(UPDATE, {
        with: { etag, 'push-subscription-url': `${client.baseUrl.origin}/push/subscriptions/${randomUUID()}` },
        body: (b) => b.replace('SUMMARY:Test', 'SUMMARY:Test (rescheduled)'),
      });
      expectStatus(answer, [200, 204], 'PUT update');
      const next = bareEtag(answer.headers.etag);
      expectThat(next !== undefined && next !== etag, 'a new ETag header', answer);
      client.keep(`stale:${name}`, etag);
      client.keep(`etag:${name}`, next);
    },
  },
  {
    title: 'update and delete with a stale ETag',
    phase: 'conflict',
    files: [UPDATE, DELETE],
    checks: 'both answer 412 (DAVx5 ignores it and re-downloads the item later); nothing is changed',
    async run(client) {
      const name = client.context.object ?? '';
      const stale = client.recall(`stale:${name}`);
      const put = await client.replay(UPDATE, { with: { etag: stale, 'push-subscription-url': 'x' }, headers: { 'Push-Dont-Notify': null } });
      expectStatus(put, [412], 'stale If-Match PUT');
      const del = await client.replay(DELETE, { with: { etag: stale } });
      expectStatus(del, [412], 'stale If-Match DELETE');
    },
  },
  {
    title: 'delete with If-Match',
    phase: 'write',
    files: [DELETE],
    checks: 'DELETE with the current ETag answers 204 — a 207 would count as an error',
    async run(client) {
      const answer = await client.replay(DELETE, { with: { etag: client.recall(`etag:${client.context.object ?? ''}`) } });
      expectStatus(answer, [200, 204], 'DELETE');
    },
  },
  {
    title: 'sync-collection reports the deletion',
    phase: 'sync',
    files: [SYNC],
    checks: 'the deleted item is a 404 member (deleted locally), the untouched one is not listed',
    async run(client) {
      const answer = await client.replay(SYNC, { body: withToken(client.recall('token')) });
      const multistatus = readSync(answer, client);
      const gone = memberAt(multistatus, hrefOf(client, client.context.object ?? ''), answer);
      expectThat(gone.status === 404, 'the deleted item must be a 404 member', answer);
      expectThat(multistatus.members.every((m) => m.href !== hrefOf(client, client.context.object2 ?? '')), 'the untouched item must not be listed', answer);
      client.keep('token', multistatus.syncToken);
    },
  },
  {
    title: 'truncated sync-collection (507) is continued with the new token',
    phase: 'sync',
    files: [SYNC],
    checks: 'with DAV:limit the answer marks the request-URI 507 and carries a token; looping with each new token delivers every change exactly once and ends without 507',
    async run(client) {
      const names = Array.from({ length: 5 }, () => randomUUID());
      for (const name of names) {
        const body = event({ uid: name, prodid: PRODID, summary: 'Batch', start: '20250405T080000Z', end: '20250405T090000Z' });
        expectStatus(await client.replay(CREATE, { with: { object: name }, body: () => body }), [201], 'PUT create');
      }
      // DAVx5 never asks for a limit itself; a server may still truncate, and DAVx5 must then loop.
      const limited = (token: string) => (body: string) => withToken(token)(body).replace('</sync-collection>', '<limit><nresults>2</nresults></limit></sync-collection>');
      const seen: string[] = [];
      let token = client.recall('token');
      let truncatedAnswers = 0;
      for (let round = 0; round < 10; round++) {
        const answer = await client.replay(SYNC, { body: limited(token) });
        const multistatus = readSync(answer, client);
        const truncated = multistatus.members.some((m) => m.status === 507 && m.href === client.context.calendar);
        for (const member of multistatus.members) if (member.status !== 507) seen.push(member.href);
        token = multistatus.syncToken ?? '';
        if (!truncated) break;
        truncatedAnswers++;
      }
      expectThat(truncatedAnswers >= 1, 'five changes with nresults 2 must be truncated at least once (507 on the request-URI)');
      const expected = names.map((n) => hrefOf(client, n)).sort();
      expectThat(JSON.stringify([...seen].sort()) === JSON.stringify(expected), `every change exactly once: got ${JSON.stringify(seen)}`);
      client.keep('token', token);
    },
  },
  {
    title: 'sync-collection with an unknown token',
    phase: 'sync',
    files: [SYNC],
    checks: 'a token the server never issued answers 403/409 with DAV:valid-sync-token, so DAVx5 restarts with an empty token',
    async run(client) {
      const bogus = client.recall('token').replace(/\/\d+$/u, '/999999');
      const answer = await client.replay(SYNC, { body: withToken(bogus) });
      expectStatus(answer, [403, 409], 'unissued sync token');
      expectThat(/valid-sync-token/u.test(answer.text), 'DAV:valid-sync-token in the error body', answer);
    },
  },
  {
    title: 'store locked by another process (backup, migration)',
    phase: 'trouble',
    files: [CREATE, MKCALENDAR, SYNC, CAPABILITIES],
    checks: 'upload and MKCALENDAR answer 503 + Retry-After (a soft error DAVx5 retries; a 4xx is a hard error, a 207 to MKCALENDAR an error); sync and capabilities reads never report removals; afterwards the upload succeeds and no half-made calendar is left',
    async run(client, server) {
      const object = randomUUID();
      const uuid = randomUUID();
      const body = event({ uid: object, prodid: PRODID, summary: 'Written offline', start: '20250407T080000Z', end: '20250407T090000Z' });
      await whileStoreLocked(server, async () => {
        expectRetryLater(await client.replay(CREATE, { with: { object }, body: () => body }), 'PUT create');
        expectRetryLater(await client.replay(MKCALENDAR, { with: { uuid } }), 'MKCALENDAR');
        const sync = await client.replay(SYNC, { body: withToken(client.recall('token')) });
        if (sync.status !== 503) expectNoPhantomDeletions(readSync(sync, client), sync);
        const caps = await client.replay(CAPABILITIES);
        if (caps.status !== 503) expectMultistatus(caps, 'capabilities while locked');
      });
      expectStatus(await client.replay(CREATE, { with: { object }, body: () => body }), [201], 'the same upload after the lock');
      const leftover = await client.request('PROPFIND', `${client.context['calendar-home'] ?? ''}${uuid}/`, { Depth: '0', 'User-Agent': UA });
      expectStatus(leftover, [404], 'the refused MKCALENDAR must leave nothing behind');
    },
  },
  {
    title: 'MKCALENDAR with resourcetype inside set/prop',
    phase: 'collections',
    files: [MKCALENDAR, HOME],
    checks: 'MKCALENDAR answers 201 (a 207 counts as an error); the new calendar lists with colour, time zone and VEVENT only',
    async run(client) {
      const uuid = randomUUID();
      client.learn({ uuid });
      const answer = await client.replay(MKCALENDAR);
      expectStatus(answer, [201], 'MKCALENDAR');
      const href = `${client.context['calendar-home'] ?? ''}${uuid}/`;
      const listing = await client.replay(HOME);
      const created = memberAt(expectMultistatus(listing, 'home PROPFIND'), href, listing);
      expectThat(resourceTypes(created).includes(caldav('calendar')), 'a calendar', listing);
      expectThat(propText(created, dav('displayname')) === 'Work', 'displayname', listing);
      expectThat(propText(created, ical('calendar-color')) === '#FF8800', 'calendar-color', listing);
      expectThat(propText(created, caldav('calendar-description')) === 'Work calendar', 'calendar-description', listing);
      expectThat(JSON.stringify(componentNames(created, caldav('supported-calendar-component-set'))) === '["VEVENT"]', 'VEVENT only', listing);
      expectThat(propText(created, caldav('calendar-timezone'))?.includes('TZID:Europe/Vienna') === true, 'calendar-timezone', listing);
      expectThat(propText(created, caldav('calendar-timezone-id')) === 'Europe/Vienna', 'calendar-timezone-id (RFC 7809) kept', listing);
      client.keep('created-calendar', href);
    },
  },
  {
    title: 'delete a collection',
    phase: 'collections',
    files: [],
    checks: 'DELETE {collection} answers 204 (404/410 also count as success, 207 is an error); the home no longer lists it',
    async run(client) {
      const href = client.recall('created-calendar');
      const answer = await client.request('DELETE', href, { 'User-Agent': UA });
      expectStatus(answer, [200, 204], 'DELETE collection');
      const listing = await client.replay(HOME);
      expectThat(expectMultistatus(listing, 'home PROPFIND').members.every((m) => m.href !== href), 'the deleted calendar must be gone', listing);
    },
  },
  {
    title: 'upload a vCard 4 and list members',
    phase: 'contacts',
    files: [CAPABILITIES, CARD_MEMBERS],
    checks: 'addressbook-home-set found on the principal; the book offers vCard 3.0 and 4.0 and sync-collection; PUT text/vcard;version=4.0 answers 201; Depth-1 listing gives the card with getetag',
    async run(client) {
      const body = '<?xml version=\'1.0\' encoding=\'UTF-8\' ?><propfind xmlns="DAV:" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><resourcetype /><displayname /><current-user-principal /><CARD:addressbook-home-set /><CARD:addressbook-description /></prop></propfind>';
      const onPrincipal = await client.request('PROPFIND', client.context.principal ?? '', { Depth: '0', 'Content-Type': 'application/xml; charset=UTF-8', 'User-Agent': UA }, body);
      const home = propHref(memberAt(expectMultistatus(onPrincipal, 'CardDAV principal PROPFIND'), client.context.principal ?? '', onPrincipal), carddav('addressbook-home-set'));
      expectThat(home !== undefined, 'addressbook-home-set', onPrincipal);
      const listing = await client.replay(HOME, { with: { 'calendar-home': home } });
      const book = expectMultistatus(listing, 'address book home Depth 1').members.find((m) => resourceTypes(m).includes(carddav('addressbook')));
      expectThat(book !== undefined, 'an address book in the home', listing);
      client.learn({ 'addressbook-home': home, addressbook: book.href });
      // queryCapabilities on the address book: vCard 4 is asked for only when supported-address-data offers it.
      const caps = await client.replay(CAPABILITIES, { with: { calendar: book.href } });
      const bookCaps = memberAt(expectMultistatus(caps, 'address book capabilities'), book.href, caps);
      const types = prop(bookCaps, carddav('supported-address-data'));
      const versions = types === undefined ? [] : childElements(types).map((t) => `${attr(t, 'content-type') ?? ''};${attr(t, 'version') ?? ''}`);
      expectThat(versions.includes('text/vcard;4.0') && versions.includes('text/vcard;3.0'), `supported-address-data must offer vCard 3.0 and 4.0, got ${JSON.stringify(versions)}`, caps);
      expectThat(supportedReports(bookCaps).includes(dav('sync-collection')), 'sync-collection on the address book', caps);
      expectThat(propText(bookCaps, carddav('max-resource-size')) !== undefined, 'CARD:max-resource-size', caps);
      const card = randomUUID();
      client.keep('card', card);
      const put = await client.request(
        'PUT',
        `${book.href}${card}.vcf`,
        { 'If-None-Match': '*', 'Content-Type': 'text/vcard; version=4.0', 'User-Agent': UA },
        vcard4({ uid: card, prodid: 'DAVx5/4.5.3-ose ez-vcard/0.12.1', given: 'Erika', family: 'Mustermann', email: 'erika@example.org' }),
      );
      expectStatus(put, [201], 'PUT vCard');
      client.keep(`etag:${card}`, bareEtag(put.headers.etag));
      const members = await client.replay(CARD_MEMBERS);
      const member = memberAt(expectMultistatus(members, 'address book Depth 1'), `${book.href}${card}.vcf`, members);
      expectThat(bareEtag(propText(member, dav('getetag'))) === client.recall(`etag:${card}`), 'getetag equals the PUT ETag', members);
    },
  },
  {
    title: 'addressbook-multiget asking vCard 4.0',
    phase: 'contacts',
    files: [CARD_MULTIGET],
    checks: 'address-data comes back as vCard 4.0 with the UID, plus getetag and getcontenttype text/vcard',
    async run(client) {
      const card = client.recall('card');
      const answer = await client.replay(CARD_MULTIGET, { with: { object: card } });
      const member = memberAt(expectMultistatus(answer, 'addressbook-multiget'), `${client.context.addressbook ?? ''}${card}.vcf`, answer);
      const data = propText(member, carddav('address-data')) ?? '';
      expectThat(data.includes('VERSION:4.0') && data.includes(`UID:${card}`), 'vCard 4.0 address-data', answer);
      expectThat(propText(member, dav('getcontenttype'))?.startsWith('text/vcard') === true, 'getcontenttype text/vcard', answer);
      expectThat(propText(member, dav('getetag')) !== undefined, 'getetag', answer);
    },
  },
];

export const davx5: ClientLifecycle = {
  id: 'davx5',
  name: 'DAVx⁵',
  represents: 'DAVx⁵ 4.5.3-ose (davx5-ose @ 2534c16b, dav4jvm @ a29748c9)',
  user: 'droid',
  displayName: 'Dora Droid',
  password: 'droid-secret',
  initialContext: { 'user-given-url': '/' },
  steps,
  quirks: [
    { quirk: 'Treats a 207 answer to MKCOL, MKCALENDAR or DELETE as an error', accommodation: 'Those methods answer 201/204 on success, never 207.' },
    { quirk: 'Puts `resourcetype` inside the MKCALENDAR set/prop and sends both calendar-timezone and calendar-timezone-id', accommodation: 'resourcetype in MKCALENDAR is accepted when it names a calendar; both time zone properties are stored.' },
    { quirk: 'Sends multiget without a Depth header, and sync-collection with Depth 0', accommodation: 'Multiget ignores Depth; sync-collection reads the level from the body.' },
    { quirk: 'Requires getetag on every sync member and a top-level sync-token', accommodation: 'Every changed member carries getetag; removed members are 404 responses.' },
    { quirk: 'Adds `Push-Dont-Notify` to writes', accommodation: 'Unknown request headers are ignored.' },
  ],
};
