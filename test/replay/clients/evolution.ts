// GNOME Evolution (evolution-data-server): e-webdav-discover, backend connect, sync-collection with its
// token rules, the two-pass calendar-query fallback, writes with Prefer: return=minimal, collections.
import { randomUUID } from 'node:crypto';
import { caldav, carddav, cs, dav, ical } from '../../../src/dav/xml/names.ts';
import { expectMultistatus, expectStatus, expectThat, memberAt, replayFollowing, type ClientLifecycle, type Step } from '../lifecycle.ts';
import { vcard3 } from '../payloads.ts';
import { expectNoPhantomDeletions, expectRetryLater, whileStoreLocked } from '../trouble.ts';

import { bareEtag, componentNames, propHref, propText, resourceTypes, supportedReports, type Answer, type ClientSession } from '../session.ts';

const f = (name: string): string => `evolution/${name}.http`;
const DISCOVER = f('01-propfind-discover');
const LIST_HOME = f('02-propfind-list-calendar-home-depth1');
const COLLECTION = f('03-propfind-calendar-collection-props');
const SYNC = f('04-report-sync-collection');
const QUERY = f('05-report-calendar-query-timerange-first-pass');
const MULTIGET = f('06-report-calendar-multiget');
const CREATE = f('07-put-create-if-none-match');
const DELETE = f('08-delete-if-match');
const MKCALENDAR = f('09-mkcalendar');
const PROPPATCH = f('10-proppatch-rename-color');
const CARD_MULTIGET = f('11-report-addressbook-multiget');

const UA = 'Evolution/3.56.2';
const hrefOf = (client: ClientSession, name: string): string => `${client.context.calendar}${name}.ics`;

/** e-cal-backend-caldav discards a stored token with neither ':' nor '/' (taken for an old ctag). */
function keepToken(client: ClientSession, token: string | undefined): void {
  expectThat(token !== undefined && /[:/]/u.test(token), `Evolution keeps only tokens containing ':' or '/', got ${String(token)}`);
  client.keep('token', token);
}

/** The ETag Evolution uses after a PUT: only a strong one (a W/ ETag makes it re-read). */
function strongEtag(value: string | undefined): string | undefined {
  return value === undefined || value.startsWith('W/') ? undefined : bareEtag(value);
}

const steps: Step[] = [
  {
    title: 'discover from the URL the user typed and from the principal',
    phase: 'discovery',
    files: [DISCOVER],
    checks: 'the base URL gives current-user-principal; the principal gives calendar-home-set, addressbook-home-set, calendar-user-address-set and principal-URL; well-known redirects to the same answer',
    async run(client) {
      const answer = await client.replay(DISCOVER);
      const principal = propHref(memberAt(expectMultistatus(answer, 'discover PROPFIND'), client.context['user-given-url'] ?? '', answer), dav('current-user-principal'));
      expectThat(principal !== undefined, 'current-user-principal', answer);
      client.learn({ principal });
      const onPrincipal = await client.replay(DISCOVER, { with: { 'user-given-url': principal } });
      const member = memberAt(expectMultistatus(onPrincipal, 'PROPFIND on the principal'), principal, onPrincipal);
      const calendarHome = propHref(member, caldav('calendar-home-set'));
      const addressbookHome = propHref(member, carddav('addressbook-home-set'));
      expectThat(calendarHome !== undefined && addressbookHome !== undefined, 'both home sets', onPrincipal);
      expectThat(propHref(member, dav('principal-URL')) === principal, 'principal-URL', onPrincipal);
      expectThat((propText(member, caldav('calendar-user-address-set')) ?? '').includes('mailto:gnome@example.org'), 'calendar-user-address-set with the mailto: address (the organizer e-mail Evolution offers)', onPrincipal);
      client.learn({ 'calendar-home': calendarHome, 'addressbook-home': addressbookHome });
      const { final } = await replayFollowing(client, DISCOVER, { with: { 'user-given-url': '/.well-known/caldav' } });
      expectThat(propHref(expectMultistatus(final, 'well-known').members[0], dav('current-user-principal')) === principal, 'well-known leads to the same principal', final);
    },
  },
  {
    title: 'list the calendar home, Depth 1',
    phase: 'listing',
    files: [LIST_HOME],
    checks: 'calendars with resourcetype, displayname, component set, getctag; the listing of the home itself does not fail',
    async run(client) {
      const answer = await client.replay(LIST_HOME);
      const multistatus = expectMultistatus(answer, 'home listing');
      const calendar = multistatus.members.find((m) => resourceTypes(m).includes(caldav('calendar')));
      expectThat(calendar !== undefined, 'a calendar', answer);
      client.learn({ calendar: calendar.href });
      expectThat((propText(calendar, dav('displayname')) ?? '') !== '', 'displayname', answer);
      expectThat(componentNames(calendar, caldav('supported-calendar-component-set')).includes('VEVENT'), 'VEVENT', answer);
      expectThat(propText(calendar, cs('getctag')) !== undefined, 'getctag', answer);
    },
  },
  {
    title: 'backend connect: OPTIONS and collection properties',
    phase: 'account setup',
    files: [COLLECTION],
    checks: 'OPTIONS lists calendar-access; getctag answered and supported-report-set lists sync-collection (Evolution then syncs with it)',
    async run(client) {
      const options = await client.request('OPTIONS', client.context.calendar ?? '', { 'User-Agent': UA });
      expectStatus(options, [200, 204], 'OPTIONS');
      expectThat((options.headers.dav ?? '').includes('calendar-access'), 'calendar-access', options);
      const answer = await client.replay(COLLECTION);
      const member = memberAt(expectMultistatus(answer, 'collection props'), client.context.calendar ?? '', answer);
      expectThat(propText(member, cs('getctag')) !== undefined, 'getctag', answer);
      expectThat(supportedReports(member).includes(dav('sync-collection')), 'sync-collection supported', answer);
    },
  },
  {
    title: 'first sync-collection (no token yet)',
    phase: 'sync',
    files: [SYNC],
    checks: 'an empty `<sync-token></sync-token>` answers 207 with a token Evolution keeps (it contains ":" or "/")',
    async run(client) {
      const answer = await client.replay(SYNC, { with: { 'sync-token': '' } });
      const multistatus = expectMultistatus(answer, 'sync-collection');
      keepToken(client, multistatus.syncToken);
    },
  },
  {
    title: 'create with If-None-Match and Prefer: return=minimal',
    phase: 'write',
    files: [CREATE],
    checks: 'PUT answers 201 with a strong ETag (Evolution ignores weak ones); a second create of the same name answers 412',
    async run(client) {
      const object = randomUUID();
      const object2 = randomUUID();
      client.learn({ object, object2 });
      for (const name of [object, object2]) {
        const answer = await client.replay(CREATE, { with: { object: name }, body: (b) => (name === object2 ? b.replace('SUMMARY:Test', 'SUMMARY:Review').replace(/20250302T1/gu, '20250320T1') : b) });
        expectStatus(answer, [201], 'PUT create');
        const etag = strongEtag(answer.headers.etag);
        expectThat(etag !== undefined, 'a strong ETag header', answer);
        client.keep(`etag:${name}`, etag);
      }
      const again = await client.replay(CREATE);
      expectStatus(again, [412], 'If-None-Match: * on an existing resource');
    },
  },
  {
    title: 'sync-collection with the kept token',
    phase: 'sync',
    files: [SYNC],
    checks: 'both new items with their etags, and a new token',
    async run(client) {
      const answer = await client.replay(SYNC, { with: { 'sync-token': client.recall('token') } });
      const multistatus = expectMultistatus(answer, 'sync-collection');
      for (const name of [client.context.object ?? '', client.context.object2 ?? '']) {
        expectThat(bareEtag(propText(memberAt(multistatus, hrefOf(client, name), answer), dav('getetag'))) === client.recall(`etag:${name}`), `getetag of ${name}`, answer);
      }
      keepToken(client, multistatus.syncToken);
    },
  },
  {
    title: 'calendar-query: time-range first pass, then without',
    phase: 'sync',
    files: [QUERY],
    checks: 'the ±35-day pass finds both events (March 2025); the second pass without time-range finds them as well',
    async run(client) {
      const expected = JSON.stringify([hrefOf(client, client.context.object ?? ''), hrefOf(client, client.context.object2 ?? '')].sort());
      const first = await client.replay(QUERY);
      expectThat(JSON.stringify(expectMultistatus(first, 'first pass').members.map((m) => m.href).sort()) === expected, 'both events in range', first);
      const second = await client.replay(QUERY, { body: (b) => b.replace(/<time-range[^>]*\/>/u, '') });
      expectThat(JSON.stringify(expectMultistatus(second, 'second pass').members.map((m) => m.href).sort()) === expected, 'both events without range', second);
      const outside = await client.replay(QUERY, { body: (b) => b.replace('start="20250125T120000Z" end="20250405T120000Z"', 'start="20250401T000000Z" end="20250405T120000Z"') });
      expectThat(expectMultistatus(outside, 'range with no event').members.length === 0, 'a range without events finds nothing', outside);
    },
  },
  {
    title: 'calendar-multiget (no Depth header)',
    phase: 'multiget',
    files: [MULTIGET],
    checks: 'both items with calendar-data and getetag',
    async run(client) {
      const answer = await client.replay(MULTIGET);
      const multistatus = expectMultistatus(answer, 'calendar-multiget');
      for (const name of [client.context.object ?? '', client.context.object2 ?? '']) {
        const member = memberAt(multistatus, hrefOf(client, name), answer);
        expectThat(propText(member, caldav('calendar-data'))?.includes(`UID:${name}`) === true, `calendar-data of ${name}`, answer);
        expectThat(bareEtag(propText(member, dav('getetag'))) === client.recall(`etag:${name}`), `getetag of ${name}`, answer);
      }
    },
  },
  {
    title: 'overwrite: If-Match, stale If-Match, and "keep local" without precondition',
    phase: 'conflict',
    files: [CREATE],
    checks: 'If-Match with the current ETag → 204; with the old one → 412; the user’s "keep local" (no precondition) → 204 and wins',
    async run(client) {
      const name = client.context.object ?? '';
      const etag = client.recall(`etag:${name}`);
      const update = await client.replay(CREATE, { headers: { 'If-None-Match': null, 'If-Match': `"${etag}"` }, body: (b) => b.replace('SEQUENCE:1', 'SEQUENCE:2').replace('SUMMARY:Test', 'SUMMARY:Test v2') });
      expectStatus(update, [204], 'PUT with If-Match');
      const stale = await client.replay(CREATE, { headers: { 'If-None-Match': null, 'If-Match': `"${etag}"` }, body: (b) => b.replace('SUMMARY:Test', 'SUMMARY:Test v3') });
      expectStatus(stale, [412], 'PUT with a stale If-Match');
      const keepLocal = await client.replay(CREATE, { headers: { 'If-None-Match': null }, body: (b) => b.replace('SEQUENCE:1', 'SEQUENCE:3').replace('SUMMARY:Test', 'SUMMARY:Test local') });
      expectStatus(keepLocal, [204], 'PUT without precondition');
      const current = strongEtag(keepLocal.headers.etag);
      expectThat(current !== undefined && current !== etag, 'a new strong ETag', keepLocal);
      client.keep(`stale:${name}`, etag);
      client.keep(`etag:${name}`, current);
    },
  },
  {
    title: 'delete with If-Match',
    phase: 'write',
    files: [DELETE],
    checks: 'a stale ETag → 412; the current one → 204; the retried delete of a gone item → 404 (Evolution then tries {uid}.ics and {uid}, both 404)',
    async run(client) {
      const name = client.context.object ?? '';
      expectStatus(await client.replay(DELETE, { with: { etag: client.recall(`stale:${name}`) } }), [412], 'DELETE with a stale ETag');
      expectStatus(await client.replay(DELETE, { with: { etag: client.recall(`etag:${name}`) } }), [204], 'DELETE');
      expectStatus(await client.replay(DELETE, { with: { etag: client.recall(`etag:${name}`) }, headers: { 'If-Match': null } }), [404], 'DELETE of a deleted item');
      expectStatus(await client.request('DELETE', `${client.context.calendar ?? ''}${name}`, { 'User-Agent': UA }), [404], 'DELETE {uid}');
    },
  },
  {
    title: 'sync after delete; a token Evolution must drop',
    phase: 'sync',
    files: [SYNC],
    checks: 'the deleted item is a 404 member; an invalid token answers 403 naming valid-sync-token, so Evolution repeats without one',
    async run(client) {
      const answer = await client.replay(SYNC, { with: { 'sync-token': client.recall('token') } });
      const multistatus = expectMultistatus(answer, 'sync-collection');
      expectThat(memberAt(multistatus, hrefOf(client, client.context.object ?? ''), answer).status === 404, 'deleted item as 404', answer);
      keepToken(client, multistatus.syncToken);
      const bogus = await client.replay(SYNC, { with: { 'sync-token': 'http://almanac.invalid/sync/0/0/0' } });
      expectThat((bogus.status === 403 && /valid-sync-token/u.test(bogus.text)) || bogus.status === 412, 'an invalid token must answer 403 valid-sync-token (or 412)', bogus);
    },
  },
  {
    title: 'store locked by another process (backup, migration)',
    phase: 'trouble',
    files: [DELETE, SYNC],
    checks: 'a DELETE answers 503 + Retry-After, not 404 (which Evolution retries under other names) nor 412; the sync read reports no removals; afterwards the DELETE succeeds',
    async run(client, server) {
      const name = client.context.object2 ?? '';
      const remove = (): Promise<Answer> => client.replay(DELETE, { with: { object: name, etag: client.recall(`etag:${name}`) } });
      await whileStoreLocked(server, async () => {
        expectRetryLater(await remove(), 'DELETE');
        const sync = await client.replay(SYNC, { with: { 'sync-token': client.recall('token') } });
        if (sync.status !== 503) expectNoPhantomDeletions(expectMultistatus(sync, 'sync while locked'), sync);
      });
      expectStatus(await remove(), [204], 'the same DELETE after the lock');
    },
  },
  {
    title: 'MKCALENDAR and PROPPATCH rename/recolour',
    phase: 'collections',
    files: [MKCALENDAR, PROPPATCH, LIST_HOME],
    checks: 'MKCALENDAR → 201 with colour and VEVENT+VTODO; PROPPATCH with two <set> blocks → 207 with both 200; the listing shows the new name and colour',
    async run(client) {
      const name = `evo-${randomUUID()}`;
      client.learn({ 'calendar-name': name });
      expectStatus(await client.replay(MKCALENDAR), [201], 'MKCALENDAR');
      const href = `${client.context['calendar-home'] ?? ''}${name}/`;
      let listing = await client.replay(LIST_HOME);
      let created = memberAt(expectMultistatus(listing, 'home listing'), href, listing);
      expectThat(propText(created, ical('calendar-color')) === '#3465a4', 'calendar-color', listing);
      expectThat(JSON.stringify(componentNames(created, caldav('supported-calendar-component-set')).sort()) === '["VEVENT","VTODO"]', 'VEVENT and VTODO', listing);
      const patch = await client.replay(PROPPATCH, { with: { calendar: href } });
      const patched = expectMultistatus(patch, 'PROPPATCH').members[0];
      expectThat(patched?.props.get(dav('displayname'))?.status === 200 && patched.props.get(ical('calendar-color'))?.status === 200, 'both properties set', patch);
      listing = await client.replay(LIST_HOME);
      created = memberAt(expectMultistatus(listing, 'home listing'), href, listing);
      expectThat(propText(created, dav('displayname')) === 'Renamed' && propText(created, ical('calendar-color')) === '#73d216', 'new name and colour', listing);
    },
  },
  {
    title: 'address book: list, upload a vCard 3, multiget',
    phase: 'contacts',
    files: [LIST_HOME, CARD_MULTIGET],
    checks: 'the address book home lists a book; PUT text/vcard with If-None-Match → 201; addressbook-multiget returns address-data and getetag',
    async run(client) {
      const listing = await client.replay(LIST_HOME, { with: { 'calendar-home': client.context['addressbook-home'] ?? '' } });
      const book = expectMultistatus(listing, 'address book home listing').members.find((m) => resourceTypes(m).includes(carddav('addressbook')));
      expectThat(book !== undefined, 'an address book', listing);
      client.learn({ addressbook: book.href });
      const object = randomUUID();
      const put = await client.request(
        'PUT',
        `${book.href}${object}.vcf`,
        { 'If-None-Match': '*', 'Content-Type': 'text/vcard; charset="utf-8"', Prefer: 'return=minimal', 'User-Agent': UA },
        vcard3({ uid: object, prodid: '-//Evolution 3.56.2//EN', given: 'Max', family: 'Muster', email: 'max@example.org' }),
      );
      expectStatus(put, [201], 'PUT vCard');
      const answer = await client.replay(CARD_MULTIGET, { with: { object } });
      const member = memberAt(expectMultistatus(answer, 'addressbook-multiget'), `${book.href}${object}.vcf`, answer);
      expectThat(propText(member, carddav('address-data'))?.includes(`UID:${object}`) === true, 'address-data', answer);
      expectThat(bareEtag(propText(member, dav('getetag'))) === strongEtag(put.headers.etag), 'getetag equals the PUT ETag', answer);
    },
  },
];

export const evolution: ClientLifecycle = {
  id: 'evolution',
  name: 'GNOME Evolution',
  represents: 'Evolution 3.56 (evolution-data-server @ ccb3cba2)',
  user: 'gnome',
  displayName: 'Greta Gnom',
  password: 'gnome-secret',
  initialContext: { 'user-given-url': '/' },
  steps,
  quirks: [
    { quirk: 'Discards a kept sync token that contains neither ":" nor "/" (taken for an old ctag)', accommodation: 'Tokens are URIs (`http://almanac.invalid/sync/…`).' },
    { quirk: 'Uses a PUT’s ETag only when it is strong', accommodation: 'ETags are strong.' },
    { quirk: 'Writes without any precondition when the user keeps the local copy', accommodation: 'Unconditional PUT overwrites (204).' },
    { quirk: 'Sends `Content-Type: application/xml; charset="utf-8"` with a quoted charset, and multiget without Depth', accommodation: 'Media-type parameters are parsed with quotes; Depth is ignored for multiget.' },
    { quirk: 'PROPPATCH with one `<set>` block per property', accommodation: 'Every block is applied and reported per property.' },
  ],
};
