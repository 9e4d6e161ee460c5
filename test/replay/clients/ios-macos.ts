// iOS / macOS (dataaccessd, accountsd, CalendarAgent, AddressBook): the StartupProfile order of Apple's
// load simulator — well-known, OPTIONS, principal, proxies, home, PROPPATCH, ctag, sync, writes, contacts.
import { randomUUID } from 'node:crypto';
import { caldav, carddav, cs, dav, ical } from '../../../src/dav/xml/names.ts';
import { attr } from '../../../src/dav/xml/tree.ts';
import {
  expectMultistatus,
  expectOnly200,
  expectStatus,
  expectThat,
  memberAt,
  replayFollowing,
  type ClientLifecycle,
  type Step,
} from '../lifecycle.ts';
import { event, todo } from '../payloads.ts';
import { expectNoPhantomDeletions, expectRetryLater, whileStoreLocked } from '../trouble.ts';

import { bareEtag, childNames, componentNames, privileges, prop, propHref, propText, resourceTypes, supportedReports, type Answer, type ClientSession } from '../session.ts';

const f = (name: string): string => `ios-macos/${name}.http`;
const WELL_KNOWN = f('01-propfind-well-known-caldav');
const OPTIONS = f('02-options-principal');
const PRINCIPAL = f('03-propfind-principal-caldav');
const EXPAND = f('04-report-expand-property-proxy-for');
const HOME = f('05-propfind-calendar-home-depth1');
const HOME_SYNC = f('06-report-calendar-home-sync-collection');
const CTAG = f('07-propfind-calendar-ctag-synctoken');
const SYNC = f('08-report-calendar-sync-collection-no-sync-level');
const ETAGS = f('09-propfind-calendar-depth1-etags');
const QUERY_EVENTS = f('10-report-calendar-query-vevent-timerange');
const QUERY_TODOS = f('11-report-calendar-query-vtodo');
const MULTIGET = f('12-report-calendar-multiget');
const CREATE = f('13-put-event-create');
const UPDATE = f('14-put-event-update-if-match');
const SCHEDULE_TAG_UPDATE = f('15-put-event-if-schedule-tag-match');
const DELETE = f('16-delete-event');
const MKCALENDAR = f('17-mkcalendar');
const PROPPATCH_COLOR = f('18-proppatch-calendar-color');
const PROPPATCH_ALARM = f('19-proppatch-home-default-alarm');
const CARD_PRINCIPAL = f('20-propfind-principal-carddav');
const CARD_HOME = f('21-propfind-addressbook-home-depth1');
const CARD_SYNC = f('22-report-addressbook-sync-collection');

const PRODID = '-//Apple Inc.//Mac OS X 10.11//EN';
const hrefOf = (client: ClientSession, name: string): string => `${client.context.calendar}${name}.ics`;

async function keepCalendarState(client: ClientSession): Promise<{ ctag: string; token: string }> {
  const answer = await client.replay(CTAG);
  const multistatus = expectMultistatus(answer, 'ctag/sync-token PROPFIND');
  expectOnly200(multistatus, answer);
  const calendar = memberAt(multistatus, client.context.calendar ?? '', answer);
  const ctag = propText(calendar, cs('getctag'));
  const token = propText(calendar, dav('sync-token'));
  expectThat(ctag !== undefined && ctag !== '', 'the calendar must answer CS:getctag', answer);
  expectThat(token !== undefined && token !== '', 'the calendar must answer DAV:sync-token', answer);
  return { ctag, token };
}

const steps: Step[] = [
  {
    title: 'unauthenticated first attempt gets a Basic challenge',
    phase: 'discovery',
    files: [WELL_KNOWN],
    checks: 'the credential-less PROPFIND (Apple sends one first) ends in 401 with WWW-Authenticate: Basic, directly or after the well-known redirect',
    async run(client) {
      const { final } = await replayFollowing(client, WELL_KNOWN, { anonymous: true });
      expectStatus(final, [401], 'unauthenticated PROPFIND');
      expectThat(/^Basic realm="[^"]+"/u.test(final.headers['www-authenticate'] ?? ''), 'a 401 must carry a Basic challenge', final);
    },
  },
  {
    title: '/.well-known/caldav leads to the principal',
    phase: 'discovery',
    files: [WELL_KNOWN],
    checks: 'well-known answers a redirect (or 207) that ends in 207 with current-user-principal; the same body on the principal shows a principal resource',
    async run(client) {
      const { final } = await replayFollowing(client, WELL_KNOWN);
      const multistatus = expectMultistatus(final, 'well-known PROPFIND');
      expectOnly200(multistatus, final);
      const principal = propHref(multistatus.members[0], dav('current-user-principal'));
      expectThat(principal?.endsWith('/') === true, 'current-user-principal must be an href ending in /', final);
      client.learn({ principal });
      const again = await client.replay(WELL_KNOWN, { target: principal });
      const onPrincipal = memberAt(expectMultistatus(again, 'PROPFIND on the principal'), principal, again);
      expectThat(resourceTypes(onPrincipal).includes(dav('principal')), 'the principal must have resourcetype DAV:principal', again);
      expectThat(propHref(onPrincipal, dav('principal-URL')) === principal, 'principal-URL must point at itself', again);
    },
  },
  {
    title: 'OPTIONS on the principal',
    phase: 'discovery',
    files: [OPTIONS],
    checks: 'DAV header lists calendar-access and addressbook, Allow lists PROPFIND and REPORT (accountsd aborts otherwise)',
    async run(client) {
      const answer = await client.replay(OPTIONS);
      expectStatus(answer, [200, 204], 'OPTIONS');
      const classes = (answer.headers.dav ?? '').split(',').map((c) => c.trim());
      expectThat(classes.includes('calendar-access'), 'DAV header must contain calendar-access', answer);
      expectThat(classes.includes('addressbook'), 'DAV header must contain addressbook', answer);
      const allow = (answer.headers.allow ?? '').split(',').map((m) => m.trim());
      expectThat(allow.includes('PROPFIND') && allow.includes('REPORT'), 'Allow must list PROPFIND and REPORT', answer);
    },
  },
  {
    title: 'principal properties',
    phase: 'account setup',
    files: [PRINCIPAL],
    checks: 'calendar-home-set, calendar-user-address-set, principal-URL, current-user-principal answered; Apple-only properties omitted under return=minimal',
    async run(client) {
      const answer = await client.replay(PRINCIPAL);
      const multistatus = expectMultistatus(answer, 'principal PROPFIND');
      expectOnly200(multistatus, answer);
      const principal = memberAt(multistatus, client.context.principal ?? '', answer);
      const home = propHref(principal, caldav('calendar-home-set'));
      expectThat(home?.endsWith('/') === true, 'calendar-home-set must hold an href ending in /', answer);
      client.learn({ 'calendar-home': home });
      expectThat(propHref(principal, dav('current-user-principal')) === client.context.principal, 'current-user-principal', answer);
      expectThat(propHref(principal, dav('principal-URL')) === client.context.principal, 'principal-URL', answer);
      expectThat((propText(principal, caldav('calendar-user-address-set')) ?? '').includes('mailto:apple@example.org'), 'calendar-user-address-set with the mailto: address (how Apple recognises the user as organizer)', answer);
      expectThat(propText(principal, dav('displayname')) === 'Anna Apfel', 'displayname (the account name shown in Settings)', answer);
    },
  },
  {
    title: 'expand-property for calendar proxies',
    phase: 'account setup',
    files: [EXPAND],
    checks: 'the expand-property REPORT on the principal answers 207 with both proxy-for lists (the simulator expects 207; no proxies is an empty answer, not an error)',
    async run(client) {
      const answer = await client.replay(EXPAND);
      const multistatus = expectMultistatus(answer, 'expand-property REPORT');
      const principal = memberAt(multistatus, client.context.principal ?? '', answer);
      for (const name of [cs('calendar-proxy-read-for'), cs('calendar-proxy-write-for')]) {
        expectThat(prop(principal, name) !== undefined, `${name} answered (empty: nobody delegated a calendar to this user)`, answer);
      }
    },
  },
  {
    title: 'calendar home, Depth 1',
    phase: 'listing',
    files: [HOME],
    checks: 'the home is a plain collection whose children are the calendars; each calendar answers getctag, sync-token, component set, report set (sync-collection) and write privileges',
    async run(client) {
      const answer = await client.replay(HOME);
      const multistatus = expectMultistatus(answer, 'home PROPFIND Depth 1');
      expectOnly200(multistatus, answer);
      const home = memberAt(multistatus, client.context['calendar-home'] ?? '', answer);
      expectThat(resourceTypes(home).includes(dav('collection')) && !resourceTypes(home).includes(caldav('calendar')), 'the home must be a collection, not itself a calendar', answer);
      const calendars = multistatus.members.filter((m) => resourceTypes(m).includes(caldav('calendar')));
      expectThat(calendars.length >= 1, 'the home must list at least one calendar', answer);
      const calendar = calendars[0];
      client.learn({ calendar: calendar?.href });
      expectThat(propText(calendar, cs('getctag')) !== undefined, 'calendar getctag', answer);
      expectThat(propText(calendar, dav('sync-token')) !== undefined, 'calendar sync-token', answer);
      expectThat(componentNames(calendar, caldav('supported-calendar-component-set')).includes('VEVENT'), 'supported-calendar-component-set lists VEVENT', answer);
      const reports = supportedReports(calendar);
      for (const report of [dav('sync-collection'), caldav('calendar-multiget'), caldav('calendar-query')]) {
        expectThat(reports.includes(report), `supported-report-set lists ${report}`, answer);
      }
      const granted = privileges(calendar);
      expectThat(granted.includes(dav('write')) || granted.includes(dav('all')), 'current-user-privilege-set grants write (else the calendar is read-only)', answer);
      const homeToken = propText(home, dav('sync-token'));
      if (homeToken !== undefined) client.keep('home-token', homeToken);
    },
  },
  {
    title: 'home sync-collection (calendar list changes)',
    phase: 'change detection',
    files: [HOME_SYNC],
    checks: 'sync-collection on the home with an empty token answers 207 with a top-level sync-token and lists the calendars',
    async run(client) {
      const answer = await client.replay(HOME_SYNC, { with: { 'sync-token': '' } });
      const multistatus = expectMultistatus(answer, 'home sync-collection');
      expectThat(multistatus.syncToken !== undefined && multistatus.syncToken !== '', 'the answer must carry a sync-token', answer);
      memberAt(multistatus, client.context.calendar ?? '', answer);
      client.keep('home-token', multistatus.syncToken);
    },
  },
  {
    title: 'PROPPATCH default alarm on the home',
    phase: 'account setup',
    files: [PROPPATCH_ALARM, HOME],
    checks: 'the home accepts default-alarm-vevent-date (200 propstat) and gives it back with its CR characters',
    async run(client) {
      const answer = await client.replay(PROPPATCH_ALARM);
      const multistatus = expectMultistatus(answer, 'PROPPATCH on the home');
      const value = multistatus.members[0]?.props.get(caldav('default-alarm-vevent-date'));
      expectThat(value?.status === 200, 'default-alarm-vevent-date must be set (200)', answer);
      const listing = await client.replay(HOME);
      const home = memberAt(expectMultistatus(listing, 'home PROPFIND'), client.context['calendar-home'] ?? '', listing);
      const alarm = propText(home, caldav('default-alarm-vevent-date'));
      expectThat(alarm?.includes('TRIGGER:-PT15H\r\n') === true, 'the stored alarm must come back with its CRLF lines', listing);
    },
  },
  {
    title: 'PROPPATCH calendar colour',
    phase: 'account setup',
    files: [PROPPATCH_COLOR, HOME, HOME_SYNC],
    checks: 'calendar-color is stored (200) and read back with its symbolic-color attribute; home sync-collection with the kept token reports the calendar with its new colour',
    async run(client) {
      const answer = await client.replay(PROPPATCH_COLOR);
      expectStatus(answer, [200, 207], 'PROPPATCH calendar-color');
      if (answer.status === 207) {
        const value = expectMultistatus(answer, 'PROPPATCH').members[0]?.props.get(ical('calendar-color'));
        expectThat(value?.status === 200, 'calendar-color must be set (200)', answer);
      }
      const listing = await client.replay(HOME);
      const calendar = memberAt(expectMultistatus(listing, 'home PROPFIND'), client.context.calendar ?? '', listing);
      const color = prop(calendar, ical('calendar-color'));
      expectThat(color !== undefined && propText(calendar, ical('calendar-color')) === '#FD8208FF', 'calendar-color must read back #FD8208FF', listing);
      expectThat(attr(color, 'symbolic-color') === 'orange', 'the symbolic-color attribute must be kept', listing);
      // Another device polling the home learns of the recolour through the home sync-collection.
      const sync = await client.replay(HOME_SYNC, { with: { 'sync-token': client.recall('home-token') } });
      const changes = expectMultistatus(sync, 'home sync-collection after PROPPATCH');
      expectThat(propText(memberAt(changes, client.context.calendar ?? '', sync), ical('calendar-color')) === '#FD8208FF', 'the home sync reports the recoloured calendar', sync);
      client.keep('home-token', changes.syncToken);
    },
  },
  {
    title: 'ctag and sync-token of the calendar',
    phase: 'change detection',
    files: [CTAG],
    checks: 'getctag and sync-token answered 200; the client keeps both',
    async run(client) {
      const { ctag, token } = await keepCalendarState(client);
      client.keep('ctag', ctag);
      client.keep('calendar-token', token);
    },
  },
  {
    title: 'initial sync-collection without sync-level',
    phase: 'sync',
    files: [SYNC],
    checks: 'the pre-RFC 6578 body (no sync-level, Depth 1, empty token) answers 207 with a new top-level sync-token',
    async run(client) {
      const answer = await client.replay(SYNC, { with: { 'sync-token': '' } });
      const multistatus = expectMultistatus(answer, 'initial sync-collection');
      expectThat(multistatus.syncToken !== undefined && multistatus.syncToken !== '', 'a sync-token must come back', answer);
      expectThat(multistatus.members.every((m) => m.href !== client.context.calendar), 'the collection itself is not a member', answer);
      client.keep('calendar-token', multistatus.syncToken);
    },
  },
  {
    title: 'create events and a task (no If-None-Match)',
    phase: 'write',
    files: [CREATE],
    checks: 'PUT without precondition creates with 201 and an ETag (a floating-time event, an event in July 2015, a VTODO)',
    async run(client) {
      const names = { object: randomUUID().toUpperCase(), object2: randomUUID().toUpperCase(), task: randomUUID().toUpperCase() };
      client.learn({ object: names.object, object2: names.object2 });
      client.keep('task', names.task);
      const bodies: Record<string, string | undefined> = {
        object: undefined,
        object2: event({ uid: names.object2, prodid: PRODID, summary: 'Team offsite', start: '20150701T090000Z', end: '20150701T170000Z' }),
        task: todo({ uid: names.task, prodid: PRODID, summary: 'Book flights', due: '20150705T170000Z' }),
      };
      for (const [key, name] of Object.entries(names)) {
        const body = bodies[key];
        const answer = await client.replay(CREATE, { with: { object: name }, ...(body === undefined ? {} : { body: () => body }) });
        expectStatus(answer, [201], `PUT create ${key}`);
        const etag = bareEtag(answer.headers.etag);
        expectThat(etag !== undefined, 'a create should carry an ETag header (else Apple re-reads the item)', answer);
        client.keep(`etag:${name}`, etag);
      }
    },
  },
  {
    title: 'poll: ctag and sync-token changed',
    phase: 'change detection',
    files: [CTAG, HOME_SYNC],
    checks: 'after the writes both getctag and sync-token differ from the kept values; the home sync-collection reports the calendar with that getctag',
    async run(client) {
      const { ctag, token } = await keepCalendarState(client);
      expectThat(ctag !== client.recall('ctag'), `getctag must change after writes (still ${ctag})`);
      expectThat(token !== client.recall('calendar-token'), `sync-token must change after writes (still ${token})`);
      client.keep('ctag', ctag);
      const sync = await client.replay(HOME_SYNC, { with: { 'sync-token': client.recall('home-token') } });
      const changes = expectMultistatus(sync, 'home sync-collection after writes');
      expectThat(propText(memberAt(changes, client.context.calendar ?? '', sync), cs('getctag')) === ctag, 'the home sync reports the calendar with its new getctag', sync);
      client.keep('home-token', changes.syncToken);
    },
  },
  {
    title: 'incremental sync-collection',
    phase: 'sync',
    files: [SYNC],
    checks: 'with the kept token: the three new items with getetag (equal to the PUT ETag) and getcontenttype text/calendar, and a new token',
    async run(client) {
      const answer = await client.replay(SYNC, { with: { 'sync-token': client.recall('calendar-token') } });
      const multistatus = expectMultistatus(answer, 'incremental sync-collection');
      expectOnly200(multistatus, answer);
      for (const name of [client.context.object ?? '', client.context.object2 ?? '', client.recall('task')]) {
        const member = memberAt(multistatus, hrefOf(client, name), answer);
        expectThat(bareEtag(propText(member, dav('getetag'))) === client.recall(`etag:${name}`), `getetag of ${name} must equal the PUT ETag`, answer);
        expectThat(propText(member, dav('getcontenttype'))?.startsWith('text/calendar') === true, 'getcontenttype text/calendar', answer);
      }
      expectThat(multistatus.syncToken !== undefined && multistatus.syncToken !== client.recall('calendar-token'), 'a new sync-token must come back', answer);
      client.keep('calendar-token', multistatus.syncToken);
    },
  },
  {
    title: 'Depth-1 etag listing (return=minimal, return-minimal, Brief: t)',
    phase: 'listing',
    files: [ETAGS],
    checks: 'each item has getetag and getcontenttype; the collection’s missing getetag is omitted under all three spellings of "minimal"',
    async run(client) {
      const variants: Record<string, string | null>[] = [{}, { Prefer: 'return-minimal', Brief: null }, { Prefer: null, Brief: 't' }];
      for (const headers of variants) {
        const answer = await client.replay(ETAGS, { headers });
        const multistatus = expectMultistatus(answer, `etag PROPFIND (${JSON.stringify(headers)})`);
        expectOnly200(multistatus, answer);
        const items = multistatus.members.filter((m) => m.href !== client.context.calendar);
        expectThat(items.length === 3, `three items expected, got ${items.length}`, answer);
        for (const item of items) {
          expectThat(propText(item, dav('getetag')) !== undefined, `getetag on ${item.href}`, answer);
          expectThat(propText(item, dav('getcontenttype'))?.startsWith('text/calendar') === true, `getcontenttype on ${item.href}`, answer);
        }
      }
    },
  },
  {
    title: 'calendar-query VEVENT time-range',
    phase: 'sync',
    files: [QUERY_EVENTS],
    checks: 'only the event inside 2015-06-30..2015-07-21 matches (not the 2012 event, not the task)',
    async run(client) {
      const answer = await client.replay(QUERY_EVENTS);
      const multistatus = expectMultistatus(answer, 'calendar-query');
      expectOnly200(multistatus, answer);
      expectThat(
        JSON.stringify(multistatus.members.map((m) => m.href)) === JSON.stringify([hrefOf(client, client.context.object2 ?? '')]),
        `exactly ${client.context.object2 ?? ''} expected`,
        answer,
      );
    },
  },
  {
    title: 'calendar-query VTODO',
    phase: 'sync',
    files: [QUERY_TODOS],
    checks: 'only the task matches, with its getetag',
    async run(client) {
      const answer = await client.replay(QUERY_TODOS);
      const multistatus = expectMultistatus(answer, 'VTODO calendar-query');
      expectThat(JSON.stringify(multistatus.members.map((m) => m.href)) === JSON.stringify([hrefOf(client, client.recall('task'))]), 'exactly the task expected', answer);
      expectThat(propText(multistatus.members[0], dav('getetag')) !== undefined, 'getetag on the task', answer);
    },
  },
  {
    title: 'calendar-multiget (no Depth header)',
    phase: 'multiget',
    files: [MULTIGET],
    checks: 'both hrefs come back with calendar-data holding the UID and the same getetag; schedule-tag is simply omitted',
    async run(client) {
      const answer = await client.replay(MULTIGET);
      const multistatus = expectMultistatus(answer, 'calendar-multiget');
      expectOnly200(multistatus, answer);
      for (const name of [client.context.object ?? '', client.context.object2 ?? '']) {
        const member = memberAt(multistatus, hrefOf(client, name), answer);
        expectThat(propText(member, caldav('calendar-data'))?.includes(`UID:${name}`) === true, `calendar-data of ${name}`, answer);
        expectThat(bareEtag(propText(member, dav('getetag'))) === client.recall(`etag:${name}`), `getetag of ${name}`, answer);
      }
    },
  },
  {
    title: 'poll without changes',
    phase: 'change detection',
    files: [CTAG],
    checks: 'reads (PROPFIND, REPORT) leave getctag and sync-token as they were, so an idle poll costs no resync',
    async run(client) {
      const first = await keepCalendarState(client);
      const second = await keepCalendarState(client);
      expectThat(first.ctag === client.recall('ctag') && second.ctag === first.ctag, `getctag must not move without writes (${client.recall('ctag')} → ${first.ctag} → ${second.ctag})`);
      expectThat(second.token === first.token, 'sync-token must not move without writes');
    },
  },
  {
    title: 'update with If-Match',
    phase: 'write',
    files: [UPDATE],
    checks: 'PUT with the current ETag answers 204 (the simulator accepts 204 or 412) with a new ETag',
    async run(client) {
      const name = client.context.object ?? '';
      const answer = await client.replay(UPDATE, { with: { etag: client.recall(`etag:${name}`) }, body: (b) => b.replace('SUMMARY:Test', 'SUMMARY:Test (moved)') });
      expectStatus(answer, [204], 'PUT update');
      const etag = bareEtag(answer.headers.etag);
      expectThat(etag !== undefined && etag !== client.recall(`etag:${name}`), 'a new ETag must come back', answer);
      client.keep(`stale:${name}`, client.recall(`etag:${name}`));
      client.keep(`etag:${name}`, etag);
    },
  },
  {
    title: 'update with a stale ETag',
    phase: 'conflict',
    files: [UPDATE],
    checks: 'If-Match with the previous ETag answers 412 and leaves the item unchanged',
    async run(client) {
      const name = client.context.object ?? '';
      const answer = await client.replay(UPDATE, { with: { etag: client.recall(`stale:${name}`) }, body: (b) => b.replace('SUMMARY:Test', 'SUMMARY:Lost update') });
      expectStatus(answer, [412], 'stale If-Match');
      const check = await client.replay(MULTIGET);
      const data = propText(memberAt(expectMultistatus(check, 'multiget'), hrefOf(client, name), check), caldav('calendar-data')) ?? '';
      expectThat(data.includes('SUMMARY:Test (moved)') && !data.includes('Lost update'), 'the refused write must not be stored', check);
    },
  },
  {
    title: 'update with If-Schedule-Tag-Match',
    phase: 'conflict',
    files: [SCHEDULE_TAG_UPDATE],
    checks: 'RFC 6638 precondition: 204 or 412 as the simulator expects, never 400/5xx (Almanac offers no Schedule-Tag, so Apple would not send it)',
    async run(client) {
      const name = client.context.object2 ?? '';
      const answer = await client.replay(SCHEDULE_TAG_UPDATE, { with: { object: name, 'schedule-tag': client.recall(`etag:${name}`) } });
      expectStatus(answer, [204, 412], 'If-Schedule-Tag-Match PUT');
      if (answer.status === 204) {
        const etag = bareEtag(answer.headers.etag);
        if (etag !== undefined) client.keep(`etag:${name}`, etag);
      }
    },
  },
  {
    title: 'delete without If-Match',
    phase: 'write',
    files: [DELETE],
    checks: 'DELETE answers 204; repeating it answers 404 (both accepted by the client)',
    async run(client) {
      const first = await client.replay(DELETE);
      expectStatus(first, [204], 'DELETE');
      const second = await client.replay(DELETE);
      expectStatus(second, [404], 'repeated DELETE');
    },
  },
  {
    title: 'sync after delete',
    phase: 'sync',
    files: [SYNC],
    checks: 'the deleted item comes back as a 404 member, untouched items do not come back',
    async run(client) {
      const answer = await client.replay(SYNC, { with: { 'sync-token': client.recall('calendar-token') } });
      const multistatus = expectMultistatus(answer, 'sync-collection after delete');
      const gone = memberAt(multistatus, hrefOf(client, client.context.object ?? ''), answer);
      expectThat(gone.status === 404, `the deleted item must be reported 404 (got ${gone.status})`, answer);
      expectThat(multistatus.members.every((m) => m.href !== hrefOf(client, client.recall('task'))), 'the untouched task must not be reported', answer);
      client.keep('calendar-token', multistatus.syncToken);
    },
  },
  {
    title: 'store locked by another process (backup, migration)',
    phase: 'trouble',
    files: [UPDATE, SYNC, ETAGS],
    checks: 'an update answers 503 + Retry-After, not a 4xx; sync-collection and the etag listing answer in full (or 503), never reporting items as removed; once the lock is gone the same update succeeds',
    async run(client, server) {
      const name = client.context.object2 ?? '';
      const update = (): Promise<Answer> => client.replay(UPDATE, { with: { object: name, etag: client.recall(`etag:${name}`) }, body: (b) => b.replace('SUMMARY:Test', 'SUMMARY:Written during a backup') });
      await whileStoreLocked(server, async () => {
        expectRetryLater(await update(), 'PUT update');
        const sync = await client.replay(SYNC, { with: { 'sync-token': client.recall('calendar-token') } });
        if (sync.status !== 503) expectNoPhantomDeletions(expectMultistatus(sync, 'sync-collection while locked'), sync);
        const listing = await client.replay(ETAGS);
        if (listing.status !== 503) {
          const items = expectMultistatus(listing, 'etag listing while locked').members.filter((m) => m.href !== client.context.calendar);
          expectThat(items.length === 2, `the listing must still hold both items (got ${items.length})`, listing);
        }
      });
      const retried = await update();
      expectStatus(retried, [204], 'the same update after the lock');
      client.keep(`etag:${name}`, bareEtag(retried.headers.etag));
    },
  },
  {
    title: 'MKCALENDAR with colour, order and time zone',
    phase: 'collections',
    files: [MKCALENDAR, HOME, HOME_SYNC],
    checks: 'MKCALENDAR answers 201; the home listing shows the new calendar with its properties; home sync-collection with the kept token reports it',
    async run(client) {
      const name = randomUUID().toUpperCase();
      client.learn({ 'calendar-name': name });
      const answer = await client.replay(MKCALENDAR);
      expectStatus(answer, [201], 'MKCALENDAR');
      const href = `${client.context['calendar-home'] ?? ''}${name}/`;
      const listing = await client.replay(HOME);
      const created = memberAt(expectMultistatus(listing, 'home PROPFIND'), href, listing);
      expectThat(resourceTypes(created).includes(caldav('calendar')), 'the new collection must be a calendar', listing);
      expectThat(propText(created, dav('displayname')) === 'Work', 'displayname Work', listing);
      expectThat(propText(created, ical('calendar-color')) === '#FD8208FF', 'calendar-color kept', listing);
      expectThat(propText(created, ical('calendar-order')) === '1', 'calendar-order kept', listing);
      expectThat(JSON.stringify(componentNames(created, caldav('supported-calendar-component-set'))) === '["VEVENT"]', 'component set VEVENT only', listing);
      expectThat(propText(created, caldav('calendar-timezone'))?.includes('TZID:America/Los_Angeles') === true, 'calendar-timezone kept', listing);
      expectThat(childNames(prop(created, caldav('schedule-calendar-transp'))).includes(caldav('opaque')), 'schedule-calendar-transp opaque kept', listing);
      const sync = await client.replay(HOME_SYNC, { with: { 'sync-token': client.recall('home-token') } });
      const changes = expectMultistatus(sync, 'home sync-collection with the kept token');
      memberAt(changes, href, sync);
    },
  },
  {
    title: 'calendar removed on another device',
    phase: 'change detection',
    files: [HOME_SYNC],
    checks: 'after DELETE of the new calendar, home sync-collection with the kept token reports it as a 404 member',
    async run(client) {
      const href = `${client.context['calendar-home'] ?? ''}${client.context['calendar-name'] ?? ''}/`;
      const before = await client.replay(HOME_SYNC, { with: { 'sync-token': client.recall('home-token') } });
      client.keep('home-token', expectMultistatus(before, 'home sync-collection').syncToken);
      expectStatus(await client.request('DELETE', href, { 'User-Agent': 'iOS/18.1.1 (22B91) dataaccessd/1.0' }), [204], 'DELETE calendar');
      const answer = await client.replay(HOME_SYNC, { with: { 'sync-token': client.recall('home-token') } });
      const gone = memberAt(expectMultistatus(answer, 'home sync-collection'), href, answer);
      expectThat(gone.status === 404, `the removed calendar must be a 404 member (got ${String(gone.status)})`, answer);
    },
  },
  {
    title: 'principal and address book home',
    phase: 'contacts',
    files: [CARD_PRINCIPAL, CARD_HOME],
    checks: 'addressbook-home-set answered; the home is a collection whose FIRST child is the main address book (macOS syncs only the first) with a sync-token',
    async run(client) {
      const answer = await client.replay(CARD_PRINCIPAL);
      const multistatus = expectMultistatus(answer, 'CardDAV principal PROPFIND');
      expectOnly200(multistatus, answer);
      const home = propHref(memberAt(multistatus, client.context.principal ?? '', answer), carddav('addressbook-home-set'));
      expectThat(home !== undefined, 'addressbook-home-set', answer);
      client.learn({ 'addressbook-home': home });
      const listing = await client.replay(CARD_HOME);
      const books = expectMultistatus(listing, 'address book home Depth 1');
      expectOnly200(books, listing);
      const homeMember = memberAt(books, home, listing);
      expectThat(!resourceTypes(homeMember).includes(carddav('addressbook')), 'the home must not itself be an address book', listing);
      const children = books.members.filter((m) => m.href !== home);
      const first = children[0];
      expectThat(first !== undefined && resourceTypes(first).includes(carddav('addressbook')), 'the first child must be an address book', listing);
      expectThat(first.href.endsWith('/default/'), `the main (default) book must come first, got ${first.href}`, listing);
      expectThat(propText(first, dav('sync-token')) !== undefined, 'the book must answer sync-token', listing);
      client.learn({ addressbook: first.href });
    },
  },
  {
    title: 'sync-collection with a token the server never issued',
    phase: 'contacts',
    files: [CARD_SYNC],
    checks: 'the bare-UUID token of macOS 10.14 Contacts answers 403 with DAV:valid-sync-token (not 500), so the client starts over',
    async run(client) {
      const answer = await client.replay(CARD_SYNC);
      expectStatus(answer, [403], 'unissued sync token');
      expectThat(/valid-sync-token/u.test(answer.text), 'the error body must name DAV:valid-sync-token', answer);
    },
  },
];

export const iosMacos: ClientLifecycle = {
  id: 'ios-macos',
  name: 'iOS / macOS',
  represents: 'iOS 18.1.1 dataaccessd, macOS 12 CalendarAgent/961, OS X 10.11 CalendarAgent/361 (CalendarServer simulator bodies), macOS 10.13–10.14 AddressBook',
  user: 'apple',
  displayName: 'Anna Apfel',
  password: 'apple-device-secret',
  initialContext: {},
  steps,
  quirks: [
    { quirk: 'Sends `Prefer: return=minimal` and `Brief: t`, older releases the non-standard `Prefer: return-minimal`', accommodation: 'All three spellings drop the 404 propstats of the dozens of Apple-only properties it asks for.' },
    { quirk: 'Sends the first request of every exchange without credentials', accommodation: '401 with a Basic challenge, also behind the well-known redirect.' },
    { quirk: 'Needs the home to be a container of calendars and OPTIONS to list calendar-access and PROPFIND', accommodation: 'Homes `/calendars/<user>/` and `/addressbooks/<user>/` are plain collections; OPTIONS answers DAV and Allow on every resource.' },
    { quirk: 'macOS Contacts syncs only the first address book of the home', accommodation: 'The `default` book is listed first.' },
    { quirk: 'macOS 10.14 Contacts sends a bare-UUID sync token the server never issued', accommodation: '403 with DAV:valid-sync-token, so the client falls back to a full sync.' },
    { quirk: 'sync-collection without `<sync-level>` (draft body of OS X 10.7+)', accommodation: 'A missing sync-level is read as level 1.' },
    { quirk: 'MKCALENDAR and PROPPATCH carry Apple properties (calendar-color with symbolic-color, calendar-order, default alarms with CR characters)', accommodation: 'Kept as dead properties with their attributes and exact text.' },
  ],
};
