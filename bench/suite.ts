// The benchmark scenarios shared by run.ts and peers.ts: a calendar per size (PUT, GET, PROPFIND,
// calendar-query time-range with and without expand, multiget, sync-collection initial and
// incremental), an address book (addressbook-query text-match) and the phone workload. Every answer
// is checked against what the seeded data says it must be; a wrong answer is an error, never an op.
import { createHash } from 'node:crypto';
import type { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { components, contentLines, dateValueMs, eventInstances, formatDateTimeValue, overlaps, type ContentLine } from './calendar-time.ts';
import {
  CONTACT_EMAIL_TERM,
  CONTACT_SEARCH_TERM,
  contactEmailMatches,
  contactMatches,
  eventSpec,
  generateCalendarItems,
  generateContacts,
  mulberry32,
  randomInt,
  renderContact,
  renderItem,
  reviseItem,
  type CalendarItem,
  type ContactSpec,
  type EventSpec,
  type Random,
} from './generate.ts';
import { runLoad, send, type BenchRequest, type BenchResponse, type BenchTask, type LoadResult, type LoadTarget, type RequestSpec } from './load.ts';
import { memberName, parseMultistatus, type Multistatus, type MultistatusEntry } from './multistatus.ts';

export class BenchFailure extends Error {
  override readonly name = 'BenchFailure';
}

export interface Account {
  readonly authorization: string;
  /** The path of the user's phone calendar (created by the suite), ending in '/'. */
  readonly calendar: string;
}

export interface SuiteTarget extends LoadTarget {
  /** The `server` field of result lines. */
  readonly name: string;
  /** Our own Almanac, held to its stricter promises (byte-for-byte bodies, 204 on update). */
  readonly ownAlmanac: boolean;
  /** False only for the ceiling: its answers are prebuilt, so nothing is set up or checked. */
  readonly validate: boolean;
  readonly calendarHome: string;
  readonly addressbookHome: string;
  /** Phone user `index` (0-based); the account must exist already. */
  phoneAccount(index: number): Account;
  /** At most this many objects per collection go over HTTP; the rest through bulkWrite. */
  readonly httpLoadLimit: number;
  /** Writes objects straight into the server's storage (peers that are slow to take PUTs). */
  readonly bulkWrite?: (collection: string, items: readonly { readonly name: string; readonly body: string }[]) => Promise<void>;
  /** Resident memory of the server process in bytes, when known. */
  readonly rssBytes?: () => number | undefined;
  /** CPU seconds the server process has used so far (see processCpuSeconds). */
  readonly cpuSeconds?: () => number | undefined;
}

export interface SuiteOptions {
  readonly durationSeconds: number;
  readonly maxRequests: number;
  readonly concurrency: number;
  readonly seedConcurrency: number;
  readonly seedTimeoutSeconds: number;
  readonly seed: number;
  /** The calendar-query window: one month, UTC. */
  readonly month: { readonly start: number; readonly end: number };
  /** Address book sizes; each gets its own collection. */
  readonly contacts: readonly number[];
  readonly phoneUsers: number;
  readonly phoneEvents: number;
  readonly phoneConcurrency: readonly number[];
  /**
   * Probe each read scenario with one request first and, when the server takes longer than a
   * twentieth of the time budget for it, measure at concurrency 1 within the budget (slow peers).
   */
  readonly adaptive: boolean;
  readonly requestTimeoutMs: number;
}

export interface ResultLine {
  readonly scenario: string;
  readonly collectionSize: number;
  readonly concurrency: number;
  readonly ops: number;
  readonly seconds: number;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly errors: number;
  readonly server: string;
  readonly statusCounts: Readonly<Record<string, number>>;
  /** Members in each answer (queries, multiget, sync). */
  readonly members?: number;
  /** Size of one answer in bytes (of the probe or first answer). */
  readonly responseBytes?: number;
  readonly rssMb?: number;
  /** Server CPU time per answered request over the scenario (ms), when the server's process is known. */
  readonly serverCpuMsPerOp?: number;
  /** Phone workload: how many users the rounds are spread over. */
  readonly users?: number;
  /** Set when a setup step or check failed and the scenario could not run. */
  readonly failed?: string;
}

export interface SuiteContext {
  readonly target: SuiteTarget;
  readonly options: SuiteOptions;
  readonly signal: AbortSignal;
  /** A single-connection agent (without keep-alive) for the one-off requests between scenarios. */
  readonly agent: Agent;
  readonly emit: (line: ResultLine) => void;
  readonly log: (message: string) => void;
}

// ---- request bodies --------------------------------------------------------------------------------

const CALENDAR_CONTENT_TYPE = 'text/calendar; charset=utf-8';
const VCARD_CONTENT_TYPE = 'text/vcard; charset=utf-8';
const XML_CONTENT_TYPE = 'application/xml; charset=utf-8';
const XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>';
const NS = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/"';
const MKCALENDAR_BODY = `${XML_HEAD}<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:resourcetype><D:collection/><C:calendar/></D:resourcetype></D:prop></D:set></D:mkcol>`;
const MKADDRESSBOOK_BODY = `${XML_HEAD}<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>`;
const PROPFIND_MEMBERS = `${XML_HEAD}<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:getcontenttype/></D:prop></D:propfind>`;
const PROPFIND_COLLECTION = `${XML_HEAD}<D:propfind ${NS}><D:prop><D:resourcetype/><D:displayname/><CS:getctag/><D:sync-token/></D:prop></D:propfind>`;

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/gu, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : '&quot;'));
}

function utcText(ms: number): string {
  return `${formatDateTimeValue(ms)}Z`;
}

function calendarQueryBody(start: number, end: number, expand: boolean): string {
  const data = expand ? `<C:calendar-data><C:expand start="${utcText(start)}" end="${utcText(end)}"/></C:calendar-data>` : '<C:calendar-data/>';
  return `${XML_HEAD}<C:calendar-query ${NS}><D:prop><D:getetag/>${data}</D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="${utcText(start)}" end="${utcText(end)}"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`;
}

function multigetBody(hrefs: readonly string[]): string {
  return `${XML_HEAD}<C:calendar-multiget ${NS}><D:prop><D:getetag/><C:calendar-data/></D:prop>${hrefs.map((h) => `<D:href>${escapeXml(h)}</D:href>`).join('')}</C:calendar-multiget>`;
}

function syncBody(token: string): string {
  const tokenElement = token === '' ? '<D:sync-token/>' : `<D:sync-token>${escapeXml(token)}</D:sync-token>`;
  return `${XML_HEAD}<D:sync-collection xmlns:D="DAV:">${tokenElement}<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`;
}

function addressbookQueryBody(property: 'FN' | 'EMAIL', term: string): string {
  return `${XML_HEAD}<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data/></D:prop><C:filter test="anyof"><C:prop-filter name="${property}"><C:text-match collation="i;unicode-casemap" match-type="contains">${escapeXml(term)}</C:text-match></C:prop-filter></C:filter></C:addressbook-query>`;
}

function addressbookMultigetBody(hrefs: readonly string[]): string {
  return `${XML_HEAD}<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data/></D:prop>${hrefs.map((h) => `<D:href>${escapeXml(h)}</D:href>`).join('')}</C:addressbook-multiget>`;
}

// ---- helpers ---------------------------------------------------------------------------------------

function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function rssMb(target: SuiteTarget): number | undefined {
  const bytes = target.rssBytes?.();
  return bytes === undefined ? undefined : round(bytes / 1_048_576, 1);
}

function resultLine(context: SuiteContext, scenario: string, collectionSize: number, concurrency: number, result: LoadResult, extra: Partial<ResultLine>): ResultLine {
  const rss = rssMb(context.target);
  return {
    scenario,
    collectionSize,
    concurrency,
    ops: result.ops,
    seconds: round(result.seconds),
    opsPerSecond: round(result.opsPerSecond, result.opsPerSecond < 10 ? 4 : 1),
    p50Ms: round(result.p50),
    p95Ms: round(result.p95),
    p99Ms: round(result.p99),
    maxMs: round(result.max),
    errors: result.errors,
    server: context.target.name,
    statusCounts: result.statusCounts,
    ...extra,
    ...(rss === undefined ? {} : { rssMb: rss }),
  };
}

/** A line for a scenario that could not run because its setup or a check failed. */
export function failedLine(server: string, scenario: string, collectionSize: number, concurrency: number, message: string): ResultLine {
  return { scenario, collectionSize, concurrency, ops: 0, seconds: 0, opsPerSecond: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, maxMs: 0, errors: 0, server, statusCounts: {}, failed: message };
}

async function oneOff(context: SuiteContext, spec: RequestSpec): Promise<{ response: BenchResponse; ms: number }> {
  const begin = performance.now();
  const response = await send(context.agent, context.target, spec, context.options.requestTimeoutMs);
  return { response, ms: performance.now() - begin };
}

function statusError(what: string, response: BenchResponse, ms: number): BenchFailure {
  const snippet = response.body.toString('utf8', 0, Math.min(response.body.byteLength, 500)).replace(/\s+/gu, ' ');
  return new BenchFailure(`${what}: status ${response.status} after ${ms.toFixed(1)} ms: ${snippet}`);
}

function etagOf(response: BenchResponse): string | undefined {
  const value = response.headers.etag;
  return typeof value === 'string' ? value : undefined;
}

/**
 * Wraps a check of a whole answer so that identical answers (the same request repeated) are checked
 * once: every answer is still held to the check, through the digest of its bytes.
 */
function memoized(check: (response: BenchResponse) => string | undefined): (response: BenchResponse | null) => string | undefined {
  const verdicts = new Map<string, string | undefined>();
  return (response) => {
    if (response === null || response.status !== 207) return undefined;
    const digest = createHash('sha1').update(response.body).digest('base64');
    if (verdicts.has(digest)) return verdicts.get(digest);
    const verdict = check(response);
    if (verdicts.size < 10_000) verdicts.set(digest, verdict);
    return verdict;
  };
}

function multistatusOf(response: BenchResponse): Multistatus {
  return parseMultistatus(response.body.toString('utf8'));
}

/** Is the entry the collection itself (its own response in a Depth 1 listing)? */
function isSelf(entry: MultistatusEntry, collection: string): boolean {
  return entry.href === collection || `${entry.href}/` === collection;
}

function uidOf(data: string): string | undefined {
  return contentLines(data).find((line) => line.name === 'UID')?.value;
}

interface Limits {
  readonly concurrency: number;
  readonly maxSeconds: number;
  readonly maxRequests: number;
}

/**
 * Runs and emits one measured scenario. With `probe`, one request is sent first (warming caches,
 * checked like the rest but not counted); in adaptive mode a slow probe turns the scenario into a
 * sequential one within the same time budget.
 */
async function measure(
  context: SuiteContext,
  name: string,
  size: number,
  limits: Limits,
  next: (sequence: number) => BenchRequest | BenchTask,
  extra: Partial<ResultLine> = {},
  probe = false,
): Promise<LoadResult> {
  let effective = limits;
  let responseBytes: number | undefined;
  const { target, options, signal } = context;
  const onError = (description: string): void => context.log(`[${target.name} ${size}] ${name} error: ${description}`);
  if (probe) {
    const first = next(0);
    let bytes: number | undefined;
    const probed = await runLoad(
      { ...target, recorder: (label, response) => {
        bytes = response.body.byteLength;
        target.recorder?.(label, response);
      } },
      { concurrency: 1, maxSeconds: limits.maxSeconds, maxRequests: 1, next: () => first, signal, onError, requestTimeoutMs: options.requestTimeoutMs },
    );
    responseBytes = bytes;
    if (options.adaptive && probed.ops + probed.errors > 0 && probed.max * 20 > limits.maxSeconds * 1000) {
      const fit = Math.max(2, Math.min(limits.maxRequests, Math.ceil((limits.maxSeconds * 1000) / Math.max(probed.max, 1))));
      effective = { concurrency: 1, maxSeconds: limits.maxSeconds, maxRequests: fit };
      context.log(`[${target.name} ${size}] ${name}: one answer took ${(probed.max / 1000).toFixed(2)} s, measuring ${fit} sequential requests`);
    }
  }
  context.log(`[${target.name} ${size}] ${name}: concurrency ${effective.concurrency}, at most ${effective.maxSeconds} s and ${effective.maxRequests} requests`);
  const cpuBefore = target.cpuSeconds?.();
  const result = await runLoad(target, { ...effective, next, signal, onError, requestTimeoutMs: options.requestTimeoutMs });
  const cpuAfter = target.cpuSeconds?.();
  if (signal.aborted) throw new BenchFailure('interrupted');
  const answered = result.ops + result.errors;
  const cpu = cpuBefore === undefined || cpuAfter === undefined || answered === 0 ? {} : { serverCpuMsPerOp: round(((cpuAfter - cpuBefore) * 1000) / answered, 2) };
  context.emit(resultLine(context, name, size, effective.concurrency, result, { ...extra, ...cpu, ...(responseBytes === undefined ? {} : { responseBytes }) }));
  return result;
}

/** Sends a batch of writes as a setup step (not emitted); every one must succeed. */
async function setupLoad(context: SuiteContext, what: string, count: number, next: (sequence: number) => BenchRequest): Promise<void> {
  if (count === 0) return;
  const result = await runLoad(context.target, {
    concurrency: context.options.seedConcurrency,
    maxSeconds: context.options.seedTimeoutSeconds,
    maxRequests: count,
    next,
    signal: context.signal,
    requestTimeoutMs: context.options.requestTimeoutMs,
    onError: (description) => context.log(`[${context.target.name}] ${what} error: ${description}`),
  });
  if (result.ops !== count) throw new BenchFailure(`${what}: ${result.ops} of ${count} requests succeeded (${JSON.stringify(result.statusCounts)})`);
}

async function createCollection(context: SuiteContext, path: string, body: string): Promise<void> {
  const mkcol = { method: 'MKCOL', path, headers: { 'Content-Type': XML_CONTENT_TYPE }, body, label: 'setup' };
  let { response, ms } = await oneOff(context, mkcol);
  if (response.status === 405 && !context.target.ownAlmanac) {
    // A previous run against this server left the collection behind: start from an empty one.
    context.log(`${path} exists already; deleting it first`);
    const removed = await oneOff(context, { method: 'DELETE', path, label: 'setup' });
    if (removed.response.status >= 300) throw statusError(`DELETE ${path}`, removed.response, removed.ms);
    ({ response, ms } = await oneOff(context, mkcol));
  }
  if (response.status !== 201) throw statusError(`MKCOL ${path}`, response, ms);
}

// ---- tracked objects -------------------------------------------------------------------------------

/** What the benchmark knows about one object: its current spec and ETag. */
interface Tracked<T> {
  spec: T;
  etag: string | undefined;
  /** Reserved by an update in flight, or retired after an update whose outcome is unknown. */
  busy: boolean;
  /** The spec an update in flight is writing. */
  pending: T | undefined;
}

function track<T>(specs: readonly T[]): Tracked<T>[] {
  return specs.map((spec) => ({ spec, etag: undefined, busy: false, pending: undefined }));
}

/** PROPFIND Depth 1 once, checked: exactly the tracked members, each with the ETag the benchmark holds. */
async function verifyListing<T extends { readonly name: string }>(context: SuiteContext, collection: string, objects: readonly Tracked<T>[], when: string, authorization?: string): Promise<void> {
  const { response, ms } = await oneOff(context, {
    method: 'PROPFIND', path: collection, headers: { Depth: '1', 'Content-Type': XML_CONTENT_TYPE }, body: PROPFIND_MEMBERS, label: 'setup',
    ...(authorization === undefined ? {} : { authorization }),
  });
  if (response.status !== 207) throw statusError(`PROPFIND Depth 1 ${collection} (${when})`, response, ms);
  const { openTags, entries } = multistatusOf(response);
  const expected = objects.length + 1;
  context.log(`[${context.target.name} ${objects.length}] PROPFIND Depth 1 check (${when}): 207 with ${openTags} responses, ${response.body.byteLength} bytes in ${ms.toFixed(1)} ms`);
  if (openTags !== expected || entries.length !== expected) {
    throw new BenchFailure(`PROPFIND Depth 1 ${collection} (${when}) returned ${openTags} <response> elements (${entries.length} complete), expected exactly ${expected}`);
  }
  const byName = new Map(objects.map((tracked) => [tracked.spec.name, tracked]));
  const seen = new Set<string>();
  let adopted = 0;
  for (const entry of entries) {
    if (isSelf(entry, collection)) continue;
    const name = memberName(entry.href);
    const tracked = byName.get(name);
    if (tracked === undefined || !entry.href.startsWith(collection)) throw new BenchFailure(`PROPFIND Depth 1 (${when}) listed ${entry.href}, which the benchmark never created`);
    if (seen.has(name)) throw new BenchFailure(`PROPFIND Depth 1 (${when}) listed ${entry.href} twice`);
    seen.add(name);
    if (entry.etag === undefined) throw new BenchFailure(`PROPFIND Depth 1 (${when}) gave no getetag for ${entry.href}`);
    if (tracked.etag === undefined) {
      tracked.etag = entry.etag;
      adopted += 1;
    } else if (tracked.etag !== entry.etag) {
      throw new BenchFailure(`PROPFIND Depth 1 (${when}) gave ETag ${entry.etag} for ${entry.href}, but the last PUT answered ${tracked.etag}`);
    }
  }
  if (seen.size !== objects.length) throw new BenchFailure(`PROPFIND Depth 1 (${when}) listed ${seen.size} of ${objects.length} objects`);
  if (adopted > 0) context.log(`[${context.target.name} ${objects.length}] ${adopted} ETags taken from the listing (not returned by PUT or written directly)`);
}

/** Picks a random object no update is using; bounded: a few random tries, then one scan. */
function pickFree<T>(random: Random, objects: readonly Tracked<T>[]): Tracked<T> {
  for (let attempt = 0; attempt < 32; attempt++) {
    const candidate = objects[Math.floor(random() * objects.length)];
    if (candidate !== undefined && !candidate.busy) return candidate;
  }
  const offset = Math.floor(random() * objects.length);
  for (let i = 0; i < objects.length; i++) {
    const candidate = objects[(offset + i) % objects.length];
    if (candidate !== undefined && !candidate.busy) return candidate;
  }
  const fallback = objects[offset];
  if (fallback === undefined) throw new BenchFailure('no objects to update');
  return fallback;
}

/** Distinct random indexes. */
function sample(random: Random, size: number, count: number): number[] {
  const chosen = new Set<number>();
  const wanted = Math.min(size, count);
  while (chosen.size < wanted) chosen.add(Math.floor(random() * size));
  return [...chosen];
}

// ---- expected answers ------------------------------------------------------------------------------

/** Each event of the calendar with instances in [start, end): name → their UTC starts. */
function expectedInRange(objects: readonly Tracked<CalendarItem>[], start: number, end: number): Map<string, { spec: EventSpec; starts: number[] }> {
  const expected = new Map<string, { spec: EventSpec; starts: number[] }>();
  for (const { spec } of objects) {
    if (spec.kind !== 'event') continue;
    const starts = eventInstances(spec).filter((instance) => overlaps(instance, start, end)).map((instance) => instance.start);
    if (starts.length > 0) expected.set(spec.name, { spec, starts });
  }
  return expected;
}

function sameSet(actual: readonly string[], expected: ReadonlySet<string>): boolean {
  if (actual.length !== expected.size) return false;
  const seen = new Set<string>();
  for (const name of actual) {
    if (!expected.has(name) || seen.has(name)) return false;
    seen.add(name);
  }
  return true;
}

function describeSetDifference(actual: readonly string[], expected: ReadonlySet<string>): string {
  const got = new Set(actual);
  const missing = [...expected].filter((name) => !got.has(name));
  const extra = [...got].filter((name) => !expected.has(name));
  return `${actual.length} members, expected ${expected.size}; missing ${missing.length} (${missing.slice(0, 3).join(', ')}), unexpected ${extra.length} (${extra.slice(0, 3).join(', ')})`;
}

/**
 * Checks an expanded answer for one object: exactly the instances in range (by DTSTART, read as UTC),
 * no RRULE left, and a RECURRENCE-ID equal to DTSTART on every instance but the series' first, which
 * may come without one (it is then the master's own start; sabre/dav 1.8 does that).
 */
function expandedInstancesWrong(data: string, spec: EventSpec, starts: readonly number[]): string | undefined {
  const events = components(contentLines(data), 'VEVENT');
  if (events.length !== starts.length) return `${events.length} VEVENTs for ${spec.name}, expected ${starts.length}`;
  const seriesStart = eventInstances(spec)[0]?.start;
  const want = new Set(starts);
  const got = new Set<number>();
  for (const event of events) {
    const find = (name: string): ContentLine | undefined => event.find((line) => line.name === name);
    if (find('RRULE') !== undefined) return `${spec.name} still has an RRULE after expand`;
    const dtstart = find('DTSTART');
    const dtstartMs = dtstart === undefined ? undefined : dateValueMs(dtstart);
    if (dtstartMs === undefined) return `${spec.name}: unreadable DTSTART`;
    if (spec.recurrence !== undefined) {
      const recurrenceId = find('RECURRENCE-ID');
      const idMs = recurrenceId === undefined ? undefined : dateValueMs(recurrenceId);
      if (recurrenceId === undefined && dtstartMs !== seriesStart) return `${spec.name}: the expanded instance at ${dtstart?.value ?? ''} has no RECURRENCE-ID`;
      if (recurrenceId !== undefined && idMs !== dtstartMs) return `${spec.name}: instance ${recurrenceId.value} starts at ${dtstart?.value ?? ''}`;
    }
    got.add(dtstartMs);
  }
  for (const start of want) if (!got.has(start)) return `${spec.name}: the instance at ${new Date(start).toISOString()} is missing`;
  return got.size === want.size ? undefined : `${spec.name}: duplicate instances`;
}

// ---- the calendar of one size ----------------------------------------------------------------------

function collectionPath(home: string, name: string): string {
  return `${home.endsWith('/') ? home : `${home}/`}${name}/`;
}

/** Runs every calendar scenario on a calendar of `size` items; returns the number of failed requests. */
export async function benchCalendar(context: SuiteContext, size: number): Promise<number> {
  const { target, options } = context;
  const validate = target.validate;
  const collection = collectionPath(target.calendarHome, `bench-${size}`);
  const random = mulberry32(options.seed + size);
  const limits: Limits = { concurrency: options.concurrency, maxSeconds: options.durationSeconds, maxRequests: options.maxRequests };
  const { start: monthStart, end: monthEnd } = options.month;
  let errors = 0;

  if (validate) await createCollection(context, collection, MKCALENDAR_BODY);
  const objects = track(generateCalendarItems(size, options.seed + size));
  const pathOf = (tracked: Tracked<CalendarItem>): string => `${collection}${encodeURIComponent(tracked.spec.name)}`;

  // PUT (create): fill the calendar, each object exactly once; beyond the HTTP limit straight into storage.
  const overHttp = target.bulkWrite === undefined ? size : Math.min(size, target.httpLoadLimit);
  const seeded = await measure(context, 'PUT (create)', size, { concurrency: options.seedConcurrency, maxSeconds: options.seedTimeoutSeconds, maxRequests: overHttp }, (sequence) => {
    const tracked = objects[sequence];
    if (tracked === undefined) throw new BenchFailure(`no object ${sequence}`);
    return {
      method: 'PUT', path: pathOf(tracked), label: 'PUT (create)',
      headers: { 'Content-Type': CALENDAR_CONTENT_TYPE, 'If-None-Match': '*' },
      body: renderItem(tracked.spec),
      expect: [201],
      done: (response) => {
        if (response !== null) tracked.etag = etagOf(response);
        return undefined;
      },
    };
  });
  errors += seeded.errors;
  if (!validate) return errors + (await ceilingCalendarReads(context, size, limits));
  if (seeded.ops !== overHttp) throw new BenchFailure(`seeding ${collection} created ${seeded.ops} of ${overHttp} objects within ${options.seedTimeoutSeconds} s`);
  if (overHttp < size && target.bulkWrite !== undefined) {
    const begin = performance.now();
    await target.bulkWrite(collection, objects.slice(overHttp).map((t) => ({ name: t.spec.name, body: renderItem(t.spec) })));
    context.log(`[${target.name} ${size}] wrote ${size - overHttp} objects straight into storage in ${((performance.now() - begin) / 1000).toFixed(1)} s`);
  }
  await verifyListing(context, collection, objects, 'after seeding');

  if (target.ownAlmanac) {
    // Almanac stores bodies byte for byte (other servers may normalise them, so only checked here).
    const probe = objects[0];
    if (probe !== undefined) {
      const { response, ms } = await oneOff(context, { method: 'GET', path: pathOf(probe), label: 'setup' });
      if (response.status !== 200) throw statusError(`GET ${pathOf(probe)}`, response, ms);
      if (!response.body.equals(Buffer.from(renderItem(probe.spec), 'utf8'))) throw new BenchFailure(`GET ${pathOf(probe)} did not return the bytes that were PUT`);
    }
  }

  // GET: random existing objects; the ETag must be the one the server last gave.
  errors += (await measure(context, 'GET', size, limits, () => {
    const tracked = objects[Math.floor(random() * objects.length)] ?? objects[0];
    if (tracked === undefined) throw new BenchFailure('empty collection');
    return {
      method: 'GET', path: pathOf(tracked), label: 'GET', expect: [200],
      done: (response) => (response === null || response.status !== 200 || etagOf(response) === tracked.etag ? undefined : '200-etag-mismatch'),
    };
  })).errors;

  // PUT (update): random objects not being updated by another worker, If-Match the current ETag.
  const updateStatuses = target.ownAlmanac ? [204] : [200, 201, 204];
  const updated = await measure(context, 'PUT (update)', size, limits, () => {
    const tracked = pickFree(random, objects);
    tracked.busy = true;
    const revised = reviseItem(random, tracked.spec);
    tracked.pending = revised;
    return {
      method: 'PUT', path: pathOf(tracked), label: 'PUT (update)',
      headers: { 'Content-Type': CALENDAR_CONTENT_TYPE, 'If-Match': tracked.etag ?? '*' },
      body: renderItem(revised),
      expect: updateStatuses,
      done: (response) => {
        // Unknown outcome (or a refusal): the object stays reserved and is reconciled afterwards.
        if (response === null || !updateStatuses.includes(response.status)) return undefined;
        tracked.spec = revised;
        tracked.etag = etagOf(response);
        tracked.busy = false;
        tracked.pending = undefined;
        return undefined;
      },
    };
  });
  errors += updated.errors;
  await reconcile(context, objects, pathOf);
  await verifyListing(context, collection, objects, 'after updates');

  // PROPFIND Depth 1: the listing a client fetches to find changed ETags; every member with its ETag.
  const listingCheck = memoized((response) => {
    const { openTags, entries } = multistatusOf(response);
    if (openTags !== objects.length + 1) return '207-wrong-count';
    const etags = new Map(objects.map((t) => [t.spec.name, t.etag]));
    for (const entry of entries) {
      if (isSelf(entry, collection)) continue;
      if (etags.get(memberName(entry.href)) !== entry.etag) return '207-wrong-etag';
    }
    return undefined;
  });
  errors += (await measure(context, 'PROPFIND Depth 1', size, limits, () => ({
    method: 'PROPFIND', path: collection, label: 'PROPFIND Depth 1', headers: { Depth: '1', 'Content-Type': XML_CONTENT_TYPE }, body: PROPFIND_MEMBERS, expect: [207], done: listingCheck,
  }), { members: objects.length }, true)).errors;

  // PROPFIND Depth 0: the cheap "has anything changed?" poll on the collection itself.
  const pollCheck = memoized((response) => {
    const { entries } = multistatusOf(response);
    const self = entries[0];
    if (entries.length !== 1 || self === undefined || !isSelf(self, collection)) return '207-wrong-members';
    return self.ctag === undefined && self.syncToken === undefined ? '207-no-change-marker' : undefined;
  });
  errors += (await measure(context, 'PROPFIND Depth 0', size, limits, () => ({
    method: 'PROPFIND', path: collection, label: 'PROPFIND Depth 0', headers: { Depth: '0', 'Content-Type': XML_CONTENT_TYPE }, body: PROPFIND_COLLECTION, expect: [207], done: pollCheck,
  }), {}, true)).errors;

  // calendar-query time-range over one month: exactly the events with an instance in it.
  const inRange = expectedInRange(objects, monthStart, monthEnd);
  const expectedNames = new Set(inRange.keys());
  const etagByName = new Map(objects.map((t) => [t.spec.name, t.etag]));
  let firstWrong = true;
  const reportWrong = (what: string): string => {
    if (firstWrong) context.log(`[${target.name} ${size}] wrong answer: ${what}`);
    firstWrong = false;
    return what.startsWith('members') ? '207-wrong-members' : '207-wrong-data';
  };
  const queryCheck = (expand: boolean, wanted = inRange) => memoized((response) => {
    const { entries } = multistatusOf(response);
    const names = entries.map((e) => memberName(e.href));
    const wantedNames = new Set(wanted.keys());
    if (!sameSet(names, wantedNames)) return reportWrong(`members: ${describeSetDifference(names, wantedNames)}`);
    for (const entry of entries) {
      const name = memberName(entry.href);
      const expected = wanted.get(name);
      if (expected === undefined || entry.data === undefined) return reportWrong(`no calendar-data for ${name}`);
      if (uidOf(entry.data) !== expected.spec.uid) return reportWrong(`data of ${name} has UID ${uidOf(entry.data) ?? 'none'}`);
      if (entry.etag !== undefined && entry.etag !== etagByName.get(name)) return reportWrong(`ETag of ${name} is ${entry.etag}`);
      if (expand) {
        const wrong = expandedInstancesWrong(entry.data, expected.spec, expected.starts);
        if (wrong !== undefined) return reportWrong(wrong);
      }
    }
    return undefined;
  });
  for (const expand of [false, true]) {
    const name = expand ? 'calendar-query time-range expand' : 'calendar-query time-range';
    const check = queryCheck(expand);
    firstWrong = true;
    errors += (await measure(context, name, size, limits, () => ({
      method: 'REPORT', path: collection, label: name, headers: { Depth: '1', 'Content-Type': XML_CONTENT_TYPE }, body: calendarQueryBody(monthStart, monthEnd, expand), expect: [207], done: check,
    }), { members: expectedNames.size }, true)).errors;
  }

  // The same query with the shortest window from the month's start that holds ten events, so the answer
  // stays small whatever the calendar's size and what it costs should follow it, not the calendar
  // (issue 9's "cost proportional to the answer" target). On a big calendar even a minute holds more
  // (the all-day events of that day), so the members column says how many it returned.
  const tenEnd = windowEndHolding(objects, monthStart, TEN_EVENTS);
  const inTen = expectedInRange(objects, monthStart, tenEnd);
  firstWrong = true;
  errors += (await measure(context, TEN_EVENTS_SCENARIO, size, limits, () => ({
    method: 'REPORT', path: collection, label: TEN_EVENTS_SCENARIO, headers: { Depth: '1', 'Content-Type': XML_CONTENT_TYPE }, body: calendarQueryBody(monthStart, tenEnd, false), expect: [207], done: queryCheck(false, inTen),
  }), { members: inTen.size }, true)).errors;

  // calendar-multiget of 100 random hrefs: every one answered with its data and ETag.
  const multigetSize = Math.min(100, objects.length);
  errors += (await measure(context, 'calendar-multiget 100', size, limits, (sequence) => {
    const chosen = (sequence === 0 ? sample(mulberry32(options.seed), objects.length, multigetSize) : sample(random, objects.length, multigetSize)).map((i) => objects[i]).filter((t) => t !== undefined);
    const hrefs = chosen.map(pathOf);
    const byName = new Map(chosen.map((t) => [t.spec.name, t]));
    return {
      method: 'REPORT', path: collection, label: 'calendar-multiget 100', headers: { Depth: '1', 'Content-Type': XML_CONTENT_TYPE }, body: multigetBody(hrefs), expect: [207],
      done: multigetCheck(hrefs.length, byName, (entry, tracked) => {
        if (entry.data === undefined) return '207-wrong-members';
        return uidOf(entry.data) !== tracked.spec.uid || (entry.etag !== undefined && entry.etag !== tracked.etag) ? '207-wrong-data' : undefined;
      }),
    };
  }, { members: multigetSize }, true)).errors;

  // sync-collection, initial: every member once with its ETag, and a token.
  let initialToken: string | undefined;
  const initialCheck = memoized((response) => {
    const { entries, syncToken } = multistatusOf(response);
    const names = entries.filter((e) => !isSelf(e, collection)).map((e) => memberName(e.href));
    if (!sameSet(names, new Set(objects.map((t) => t.spec.name)))) return '207-wrong-members';
    for (const entry of entries) if (!isSelf(entry, collection) && entry.etag !== etagByName.get(memberName(entry.href))) return '207-wrong-etag';
    if (syncToken === undefined) return '207-no-token';
    initialToken ??= syncToken;
    return undefined;
  });
  errors += (await measure(context, 'sync-collection initial', size, limits, () => ({
    method: 'REPORT', path: collection, label: 'sync-collection initial', headers: { 'Content-Type': XML_CONTENT_TYPE }, body: syncBody(''), expect: [207], done: initialCheck,
  }), { members: objects.length }, true)).errors;
  if (initialToken === undefined) throw new BenchFailure('sync-collection initial gave no usable token');

  // sync-collection, incremental: after 10 updates and 2 deletions, exactly those 12 with the old token.
  const touched = sample(random, objects.length, 12).map((i) => objects[i]).filter((t) => t !== undefined);
  const changed = touched.slice(0, 10);
  const removed = touched.slice(10);
  for (const tracked of changed) {
    const revised = reviseItem(random, tracked.spec);
    const { response, ms } = await oneOff(context, { method: 'PUT', path: pathOf(tracked), label: 'setup', headers: { 'Content-Type': CALENDAR_CONTENT_TYPE, 'If-Match': tracked.etag ?? '*' }, body: renderItem(revised) });
    if (!updateStatuses.includes(response.status)) throw statusError(`PUT ${pathOf(tracked)} (before the incremental sync)`, response, ms);
    tracked.spec = revised;
    tracked.etag = etagOf(response);
  }
  for (const tracked of removed) {
    const { response, ms } = await oneOff(context, { method: 'DELETE', path: pathOf(tracked), label: 'setup' });
    if (response.status !== 204 && response.status !== 200) throw statusError(`DELETE ${pathOf(tracked)}`, response, ms);
  }
  const gone = new Set(removed.map((t) => t.spec.name));
  const remaining = objects.filter((t) => !gone.has(t.spec.name));
  if (changed.some((t) => t.etag === undefined)) await verifyListing(context, collection, remaining, 'after the changes for the incremental sync');
  const changedEtags = new Map(changed.map((t) => [t.spec.name, t.etag]));
  const token = initialToken;
  const incrementalCheck = memoized((response) => {
    const { entries, syncToken } = multistatusOf(response);
    const names = entries.map((e) => memberName(e.href));
    if (!sameSet(names, new Set([...changedEtags.keys(), ...gone]))) return reportWrong(`members: ${describeSetDifference(names, new Set([...changedEtags.keys(), ...gone]))}`);
    for (const entry of entries) {
      const name = memberName(entry.href);
      if (gone.has(name)) {
        if (entry.status !== 404) return reportWrong(`removed ${name} reported with status ${String(entry.status)}`);
      } else if (entry.etag !== changedEtags.get(name)) {
        return reportWrong(`changed ${name} reported with ETag ${entry.etag ?? 'none'}`);
      }
    }
    return syncToken === undefined ? '207-no-token' : undefined;
  });
  firstWrong = true;
  errors += (await measure(context, 'sync-collection incremental', size, limits, () => ({
    method: 'REPORT', path: collection, label: 'sync-collection incremental', headers: { 'Content-Type': XML_CONTENT_TYPE }, body: syncBody(token), expect: [207], done: incrementalCheck,
  }), { members: 12 }, true)).errors;
  return errors;
}

/** After updates with unknown outcome: read each such object back and adopt whichever version it holds. */
async function reconcile(context: SuiteContext, objects: Tracked<CalendarItem>[], pathOf: (tracked: Tracked<CalendarItem>) => string): Promise<void> {
  for (const tracked of objects) {
    if (!tracked.busy) continue;
    const { response, ms } = await oneOff(context, { method: 'GET', path: pathOf(tracked), label: 'setup' });
    if (response.status !== 200) throw statusError(`GET ${pathOf(tracked)} (after a failed update)`, response, ms);
    const sequence = Number(contentLines(response.body.toString('utf8')).find((line) => line.name === 'SEQUENCE')?.value ?? '0');
    if (tracked.pending !== undefined && sequence === tracked.pending.sequence) tracked.spec = tracked.pending;
    tracked.etag = etagOf(response);
    tracked.busy = false;
    tracked.pending = undefined;
  }
}

const TEN_EVENTS = 10;
const TEN_EVENTS_SCENARIO = 'calendar-query time-range small window';

/**
 * The end of the shortest window from `start` (on a one-minute grid, at most a year) in which at least
 * `count` events have an instance: the answer only grows with the window, so a bisection finds it.
 */
function windowEndHolding(objects: readonly Tracked<CalendarItem>[], start: number, count: number): number {
  const minute = 60_000;
  const series = objects.flatMap(({ spec }) => (spec.kind === 'event' ? [eventInstances(spec)] : []));
  const holding = (end: number): number => series.filter((instances) => instances.some((instance) => overlaps(instance, start, end))).length;
  let low = 1;
  let high = 366 * 24 * 60;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (holding(start + middle * minute) >= count) high = middle;
    else low = middle + 1;
  }
  return start + low * minute;
}

/** The ceiling answers from prebuilt responses, so the read scenarios need neither setup nor checks. */
async function ceilingCalendarReads(context: SuiteContext, size: number, limits: Limits): Promise<number> {
  const { options } = context;
  const collection = collectionPath(context.target.calendarHome, `bench-${size}`);
  const xml = { 'Content-Type': XML_CONTENT_TYPE };
  const reads: readonly [string, RequestSpec & { expect: number[] }][] = [
    ['GET', { method: 'GET', path: `${collection}x.ics`, expect: [200] }],
    ['PUT (update)', { method: 'PUT', path: `${collection}x.ics`, headers: { 'Content-Type': CALENDAR_CONTENT_TYPE, 'If-Match': '"x"' }, body: renderItem(eventSpec(mulberry32(size), 0)), expect: [204] }],
    ['PROPFIND Depth 1', { method: 'PROPFIND', path: collection, headers: { ...xml, Depth: '1' }, body: PROPFIND_MEMBERS, expect: [207] }],
    ['PROPFIND Depth 0', { method: 'PROPFIND', path: collection, headers: { ...xml, Depth: '0' }, body: PROPFIND_COLLECTION, expect: [207] }],
    ['calendar-query time-range', { method: 'REPORT', path: collection, headers: { ...xml, Depth: '1' }, body: calendarQueryBody(options.month.start, options.month.end, false), expect: [207] }],
    ['calendar-query time-range expand', { method: 'REPORT', path: collection, headers: { ...xml, Depth: '1' }, body: calendarQueryBody(options.month.start, options.month.end, true), expect: [207] }],
    // Any window: the ceiling answers with the bytes it recorded for the label.
    [TEN_EVENTS_SCENARIO, { method: 'REPORT', path: collection, headers: { ...xml, Depth: '1' }, body: calendarQueryBody(options.month.start, options.month.start + 3_600_000, false), expect: [207] }],
    ['calendar-multiget 100', { method: 'REPORT', path: collection, headers: { ...xml, Depth: '1' }, body: multigetBody(Array.from({ length: 100 }, (_, i) => `${collection}evt-${i}.ics`)), expect: [207] }],
    ['sync-collection initial', { method: 'REPORT', path: collection, headers: xml, body: syncBody(''), expect: [207] }],
    ['sync-collection incremental', { method: 'REPORT', path: collection, headers: xml, body: syncBody('x'), expect: [207] }],
  ];
  let errors = 0;
  for (const [name, request] of reads) {
    errors += (await measure(context, name, size, limits, () => ({ ...request, label: name }), {}, true)).errors;
  }
  return errors;
}

// ---- the address book ------------------------------------------------------------------------------

/** Each address book size in turn: its own collection, seeded and measured (issue 4: 1k and 10k). */
export async function benchContacts(context: SuiteContext): Promise<number> {
  let errors = 0;
  for (const size of context.options.contacts) errors += await benchAddressBook(context, size);
  return errors;
}

/**
 * Fills an address book with the seeded contacts and measures addressbook-query text-match on FN and
 * on EMAIL, and addressbook-multiget of 100 cards, each answer checked against the seeded truth.
 */
async function benchAddressBook(context: SuiteContext, size: number): Promise<number> {
  const { target, options } = context;
  const book = collectionPath(target.addressbookHome, `bench-contacts-${size}`);
  const limits: Limits = { concurrency: options.concurrency, maxSeconds: options.durationSeconds, maxRequests: options.maxRequests };
  const contacts = track(generateContacts(size, options.seed + 7));
  const pathOf = (tracked: Tracked<ContactSpec>): string => `${book}${encodeURIComponent(tracked.spec.name)}`;
  const random = mulberry32(options.seed + size);
  let errors = 0;
  if (target.validate) await createCollection(context, book, MKADDRESSBOOK_BODY);
  const overHttp = target.bulkWrite === undefined ? size : Math.min(size, target.httpLoadLimit);
  const seeded = await measure(context, 'PUT (create vCard)', size, { concurrency: options.seedConcurrency, maxSeconds: options.seedTimeoutSeconds, maxRequests: overHttp }, (sequence) => {
    const tracked = contacts[sequence];
    if (tracked === undefined) throw new BenchFailure(`no contact ${sequence}`);
    return {
      method: 'PUT', path: pathOf(tracked), label: 'PUT (create vCard)', headers: { 'Content-Type': VCARD_CONTENT_TYPE, 'If-None-Match': '*' }, body: renderContact(tracked.spec), expect: [201],
      done: (response) => {
        if (response !== null) tracked.etag = etagOf(response);
        return undefined;
      },
    };
  });
  errors += seeded.errors;
  const searches = [
    { label: 'addressbook-query text-match', property: 'FN' as const, term: CONTACT_SEARCH_TERM },
    { label: 'addressbook-query EMAIL', property: 'EMAIL' as const, term: CONTACT_EMAIL_TERM },
  ];
  const queryOf = (search: (typeof searches)[number]): BenchRequest => ({
    method: 'REPORT', path: book, label: search.label, headers: { Depth: '1', 'Content-Type': XML_CONTENT_TYPE }, body: addressbookQueryBody(search.property, search.term), expect: [207],
  });
  const multigetSize = Math.min(100, contacts.length);
  if (!target.validate) {
    for (const search of searches) errors += (await measure(context, search.label, size, limits, () => queryOf(search), {}, true)).errors;
    const hrefs = Array.from({ length: multigetSize }, (_, i) => `${book}card-${i}.vcf`);
    return errors + (await measure(context, 'addressbook-multiget 100', size, limits, () => ({ method: 'REPORT', path: book, label: 'addressbook-multiget 100', headers: { Depth: '1', 'Content-Type': XML_CONTENT_TYPE }, body: addressbookMultigetBody(hrefs), expect: [207] }), {}, true)).errors;
  }
  if (seeded.ops !== overHttp) throw new BenchFailure(`seeding ${book} created ${seeded.ops} of ${overHttp} contacts`);
  if (overHttp < size && target.bulkWrite !== undefined) await target.bulkWrite(book, contacts.slice(overHttp).map((t) => ({ name: t.spec.name, body: renderContact(t.spec) })));
  await verifyListing(context, book, contacts, 'after seeding the address book');

  for (const search of searches) {
    const expected = new Map(contacts.filter((t) => (search.property === 'FN' ? contactMatches(t.spec, search.term) : contactEmailMatches(t.spec, search.term))).map((t) => [t.spec.name, t]));
    const expectedNames = new Set(expected.keys());
    let reported = false;
    const check = memoized((response) => {
      const { entries } = multistatusOf(response);
      const names = entries.map((e) => memberName(e.href));
      let wrong: string | undefined;
      if (!sameSet(names, expectedNames)) wrong = `members: ${describeSetDifference(names, expectedNames)}`;
      for (const entry of wrong === undefined ? entries : []) {
        wrong = contactEntryWrong(entry, expected.get(memberName(entry.href)));
        if (wrong !== undefined) break;
      }
      if (wrong !== undefined && !reported) {
        reported = true;
        context.log(`[${target.name} ${size}] ${search.label} wrong answer: ${wrong}`);
      }
      return wrong === undefined ? undefined : wrong.startsWith('members') ? '207-wrong-members' : '207-wrong-data';
    });
    errors += (await measure(context, search.label, size, limits, () => ({ ...queryOf(search), done: check }), { members: expectedNames.size }, true)).errors;
  }

  // addressbook-multiget of 100 random cards: every one answered with its data and ETag.
  errors += (await measure(context, 'addressbook-multiget 100', size, limits, (sequence) => {
    const chosen = (sequence === 0 ? sample(mulberry32(options.seed), contacts.length, multigetSize) : sample(random, contacts.length, multigetSize)).map((i) => contacts[i]).filter((t) => t !== undefined);
    const hrefs = chosen.map(pathOf);
    const byName = new Map(chosen.map((t) => [t.spec.name, t]));
    return {
      method: 'REPORT', path: book, label: 'addressbook-multiget 100', headers: { Depth: '1', 'Content-Type': XML_CONTENT_TYPE }, body: addressbookMultigetBody(hrefs), expect: [207],
      done: multigetCheck(hrefs.length, byName, (entry, tracked) => (contactEntryWrong(entry, tracked) === undefined ? undefined : '207-wrong-data')),
    };
  }, { members: multigetSize }, true)).errors;
  return errors;
}

/**
 * The check of a multiget answer: every requested href answered once (by name), none other, and
 * `wrong` undefined for each; the statusCounts key of the first problem found.
 */
function multigetCheck<T>(count: number, byName: ReadonlyMap<string, T>, wrong: (entry: MultistatusEntry, tracked: T) => string | undefined): (response: BenchResponse | null) => string | undefined {
  return (response) => {
    if (response === null || response.status !== 207) return undefined;
    const { entries } = multistatusOf(response);
    if (entries.length !== count) return '207-wrong-count';
    for (const entry of entries) {
      const tracked = byName.get(memberName(entry.href));
      if (tracked === undefined) return '207-wrong-members';
      const problem = wrong(entry, tracked);
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
}

/** What is wrong with one contact in an answer (its address-data must carry the UID, its ETag the stored one). */
function contactEntryWrong(entry: { readonly href: string; readonly data?: string | undefined; readonly etag?: string | undefined }, tracked: Tracked<ContactSpec> | undefined): string | undefined {
  if (tracked === undefined || entry.data === undefined || !entry.data.includes(tracked.spec.uid)) return `no or wrong address-data for ${entry.href}`;
  if (entry.etag !== undefined && entry.etag !== tracked.etag) return `ETag of ${entry.href}`;
  return undefined;
}

// ---- the phone workload ----------------------------------------------------------------------------

interface PhoneUser {
  readonly account: Account;
  readonly calendar: string;
  /** The change marker and token the phone holds from its last sync. */
  marker: { ctag: string | undefined; syncToken: string | undefined };
  token: string;
  /** Changes made since (by "another device"): name → new ETag, and removed names. */
  readonly changed: Map<string, { uid: string; etag: string | undefined }>;
  readonly removed: Set<string>;
}

/**
 * Many users' phones syncing: each round polls the calendar's getctag/sync-token (PROPFIND Depth 0);
 * when it changed, asks sync-collection with its last token and fetches the changed events with a
 * multiget. Half the users have 1–6 changes waiting (updates, a deletion, an addition), half none.
 * The rounds repeat the same state, so each is checked against the exact expected answers.
 */
export async function benchPhones(context: SuiteContext): Promise<number> {
  const { target, options } = context;
  const random = mulberry32(options.seed + 99);
  const users: PhoneUser[] = [];
  for (let i = 0; i < options.phoneUsers; i++) {
    const account = target.phoneAccount(i);
    users.push({ account, calendar: account.calendar, marker: { ctag: undefined, syncToken: undefined }, token: '', changed: new Map(), removed: new Set() });
  }
  const plans = users.map(() => random() < 0.5);

  if (target.validate) {
    context.log(`[${target.name}] phone workload: ${users.length} users with ${options.phoneEvents} events each`);
    for (const [i, user] of users.entries()) {
      const auth = { authorization: user.account.authorization };
      const mkcol = await oneOff(context, { method: 'MKCOL', path: user.calendar, headers: { 'Content-Type': XML_CONTENT_TYPE }, body: MKCALENDAR_BODY, label: 'setup', ...auth });
      if (mkcol.response.status === 405 && !target.ownAlmanac) {
        await oneOff(context, { method: 'DELETE', path: user.calendar, label: 'setup', ...auth });
        const again = await oneOff(context, { method: 'MKCOL', path: user.calendar, headers: { 'Content-Type': XML_CONTENT_TYPE }, body: MKCALENDAR_BODY, label: 'setup', ...auth });
        if (again.response.status !== 201) throw statusError(`MKCOL ${user.calendar}`, again.response, again.ms);
      } else if (mkcol.response.status !== 201) {
        throw statusError(`MKCOL ${user.calendar}`, mkcol.response, mkcol.ms);
      }
      const items = track(generateCalendarItems(options.phoneEvents, options.seed * 1000 + i));
      await setupLoad(context, `filling ${user.calendar}`, items.length, (sequence) => {
        const tracked = items[sequence];
        if (tracked === undefined) throw new BenchFailure(`no item ${sequence}`);
        return { method: 'PUT', path: `${user.calendar}${tracked.spec.name}`, headers: { 'Content-Type': CALENDAR_CONTENT_TYPE, 'If-None-Match': '*' }, body: renderItem(tracked.spec), expect: [201], ...auth, label: 'setup' };
      });
      // The phone's last sync: its marker and token.
      const poll = await oneOff(context, { method: 'PROPFIND', path: user.calendar, headers: { Depth: '0', 'Content-Type': XML_CONTENT_TYPE }, body: PROPFIND_COLLECTION, label: 'setup', ...auth });
      if (poll.response.status !== 207) throw statusError(`PROPFIND Depth 0 ${user.calendar}`, poll.response, poll.ms);
      const self = multistatusOf(poll.response).entries[0];
      user.marker = { ctag: self?.ctag, syncToken: self?.syncToken };
      if (user.marker.ctag === undefined && user.marker.syncToken === undefined) throw new BenchFailure(`${user.calendar} has neither getctag nor sync-token`);
      const initial = await oneOff(context, { method: 'REPORT', path: user.calendar, headers: { 'Content-Type': XML_CONTENT_TYPE }, body: syncBody(''), label: 'setup', ...auth });
      if (initial.response.status !== 207) throw statusError(`sync-collection ${user.calendar}`, initial.response, initial.ms);
      const parsed = multistatusOf(initial.response);
      if (parsed.syncToken === undefined || parsed.entries.filter((e) => !isSelf(e, user.calendar)).length !== items.length) {
        throw new BenchFailure(`initial sync-collection of ${user.calendar} listed ${parsed.entries.length} members (expected ${items.length}) ${parsed.syncToken === undefined ? 'and no token' : ''}`);
      }
      user.token = parsed.syncToken;
      if (plans[i] !== true) continue;
      // Another device of the user changes a few events.
      const updates = randomInt(random, 1, 4);
      const picks = sample(random, items.length, updates + 1).map((k) => items[k]).filter((t) => t !== undefined);
      for (const tracked of picks.slice(0, updates)) {
        const revised = reviseItem(random, tracked.spec);
        const put = await oneOff(context, { method: 'PUT', path: `${user.calendar}${tracked.spec.name}`, headers: { 'Content-Type': CALENDAR_CONTENT_TYPE }, body: renderItem(revised), label: 'setup', ...auth });
        if (put.response.status >= 300) throw statusError(`PUT ${user.calendar}${tracked.spec.name}`, put.response, put.ms);
        user.changed.set(tracked.spec.name, { uid: revised.uid, etag: etagOf(put.response) });
      }
      const doomed = picks[updates];
      if (doomed !== undefined && random() < 0.5) {
        const removed = await oneOff(context, { method: 'DELETE', path: `${user.calendar}${doomed.spec.name}`, label: 'setup', ...auth });
        if (removed.response.status >= 300) throw statusError(`DELETE ${user.calendar}${doomed.spec.name}`, removed.response, removed.ms);
        user.removed.add(doomed.spec.name);
      }
      if (random() < 0.5) {
        const added = eventSpec(random, 900_000 + i);
        const put = await oneOff(context, { method: 'PUT', path: `${user.calendar}${added.name}`, headers: { 'Content-Type': CALENDAR_CONTENT_TYPE, 'If-None-Match': '*' }, body: renderItem(added), label: 'setup', ...auth });
        if (put.response.status !== 201) throw statusError(`PUT ${user.calendar}${added.name}`, put.response, put.ms);
        user.changed.set(added.name, { uid: added.uid, etag: etagOf(put.response) });
      }
      if ([...user.changed.values()].some((c) => c.etag === undefined)) {
        const listing = await oneOff(context, { method: 'PROPFIND', path: user.calendar, headers: { Depth: '1', 'Content-Type': XML_CONTENT_TYPE }, body: PROPFIND_MEMBERS, label: 'setup', ...auth });
        for (const entry of multistatusOf(listing.response).entries) {
          const change = user.changed.get(memberName(entry.href));
          if (change !== undefined) change.etag = entry.etag;
        }
      }
    }
  }

  let errors = 0;
  const totalEvents = options.phoneEvents;
  for (const concurrency of options.phoneConcurrency) {
    let wrongShown = false;
    const wrong = (what: string, key: string): string => {
      if (!wrongShown) context.log(`[${target.name}] phone round wrong answer: ${what}`);
      wrongShown = true;
      return key;
    };
    errors += (await measure(context, 'phone', totalEvents, { concurrency, maxSeconds: options.durationSeconds, maxRequests: options.maxRequests }, (sequence): BenchTask => {
      const index = sequence % users.length;
      const user = users[index];
      if (user === undefined) throw new BenchFailure('no phone users');
      const hasChanges = plans[index] === true;
      const auth = { authorization: user.account.authorization };
      return {
        label: `phone ${user.calendar}`,
        run: async (exchange) => {
          const poll = await exchange({ method: 'PROPFIND', path: user.calendar, headers: { Depth: '0', 'Content-Type': XML_CONTENT_TYPE }, body: PROPFIND_COLLECTION, label: 'phone PROPFIND Depth 0', ...auth });
          if (poll.status !== 207) return `poll-${poll.status}`;
          if (target.validate) {
            const self = multistatusOf(poll).entries[0];
            const same = user.marker.ctag !== undefined ? self?.ctag === user.marker.ctag : self?.syncToken === user.marker.syncToken;
            if (same === hasChanges) return wrong(`${user.calendar}: change marker ${same ? 'unchanged after changes' : 'changed without changes'}`, 'poll-wrong-marker');
          }
          if (!hasChanges) return undefined;
          const sync = await exchange({ method: 'REPORT', path: user.calendar, headers: { 'Content-Type': XML_CONTENT_TYPE }, body: syncBody(user.token), label: 'phone sync-collection', ...auth });
          if (sync.status !== 207) return `sync-${sync.status}`;
          if (target.validate) {
            const { entries } = multistatusOf(sync);
            const expected = new Set([...user.changed.keys(), ...user.removed]);
            const names = entries.map((e) => memberName(e.href));
            if (!sameSet(names, expected)) return wrong(`${user.calendar} sync: ${describeSetDifference(names, expected)}`, 'sync-wrong-members');
            for (const entry of entries) {
              const name = memberName(entry.href);
              if (user.removed.has(name) ? entry.status !== 404 : entry.etag !== user.changed.get(name)?.etag) return wrong(`${user.calendar} sync: ${name}`, 'sync-wrong-etag');
            }
          }
          if (user.changed.size === 0) return undefined;
          const hrefs = [...user.changed.keys()].map((name) => `${user.calendar}${name}`);
          const got = await exchange({ method: 'REPORT', path: user.calendar, headers: { Depth: '1', 'Content-Type': XML_CONTENT_TYPE }, body: multigetBody(hrefs), label: 'phone multiget', ...auth });
          if (got.status !== 207) return `multiget-${got.status}`;
          if (target.validate) {
            const { entries } = multistatusOf(got);
            if (entries.length !== hrefs.length) return wrong(`${user.calendar} multiget: ${entries.length} of ${hrefs.length}`, 'multiget-wrong-count');
            for (const entry of entries) {
              const change = user.changed.get(memberName(entry.href));
              if (change === undefined || entry.data === undefined || uidOf(entry.data) !== change.uid || entry.etag !== change.etag) return wrong(`${user.calendar} multiget: ${entry.href}`, 'multiget-wrong-data');
            }
          }
          return undefined;
        },
      };
    }, { users: users.length })).errors;
  }
  return errors;
}
