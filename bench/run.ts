// `npm run bench`: seeds calendars of several sizes over HTTP and measures GET, PUT updates and
// PROPFIND Depth 0/1 against an Almanac it starts itself (in-process, or with --fork in a child
// process) or against any running CalDAV server (--url). One JSON line per scenario on stdout,
// progress on stderr; the exit code is non-zero when any request failed or a check did not hold.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { BenchServer } from './almanac-server.ts';
import { generateEventSpecs, mulberry32, renderEvent, reviseEvent, type EventSpec, type Random } from './generate.ts';
import { runLoad, send, type BenchRequest, type BenchResponse, type LoadResult, type LoadTarget } from './load.ts';

const USAGE = `usage: node bench/run.ts [--quick] [--sizes 1000,10000] [--duration-seconds N] [--max-requests N]
                         [--concurrency C] [--seed-concurrency C] [--seed-timeout-seconds N] [--seed S]
                         [--fork] [--url URL --user U --password P [--calendar-home PATH] [--server-name NAME]]`;

interface Options {
  readonly sizes: readonly number[];
  readonly durationSeconds: number;
  readonly maxRequests: number;
  readonly concurrency: number;
  readonly seedConcurrency: number;
  readonly seedTimeoutSeconds: number;
  readonly seed: number;
  readonly fork: boolean;
  readonly url: string | undefined;
  readonly user: string;
  readonly password: string | undefined;
  readonly calendarHome: string | undefined;
  readonly serverName: string;
}

class BenchFailure extends Error {
  override readonly name = 'BenchFailure';
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function positive(flag: string, text: string | undefined, fallback: number, integer = true): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isSafeInteger(value))) throw new BenchFailure(`--${flag} must be a positive ${integer ? 'integer' : 'number'}, got ${text}`);
  return value;
}

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean', default: false },
      sizes: { type: 'string' },
      'duration-seconds': { type: 'string' },
      'max-requests': { type: 'string' },
      concurrency: { type: 'string' },
      'seed-concurrency': { type: 'string' },
      'seed-timeout-seconds': { type: 'string' },
      seed: { type: 'string' },
      fork: { type: 'boolean', default: false },
      url: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      'calendar-home': { type: 'string' },
      'server-name': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    log(USAGE);
    process.exit(0);
  }
  const sizes = values.sizes === undefined ? (values.quick ? [200, 1000] : [1000, 10_000]) : values.sizes.split(',').map((s) => positive('sizes', s.trim(), 0));
  if (values.url !== undefined) {
    if (values.password === undefined || values.user === undefined) throw new BenchFailure('--url needs --user and --password of an existing account');
    if (values.fork) throw new BenchFailure('--fork starts a server of its own; it cannot be combined with --url');
  }
  if (values.seed !== undefined && !/^\d+$/u.test(values.seed)) throw new BenchFailure(`--seed must be a non-negative integer, got ${values.seed}`);
  return {
    sizes,
    durationSeconds: positive('duration-seconds', values['duration-seconds'], values.quick ? 3 : 10, false),
    maxRequests: positive('max-requests', values['max-requests'], 20_000),
    concurrency: positive('concurrency', values.concurrency, 8),
    seedConcurrency: positive('seed-concurrency', values['seed-concurrency'], 8),
    seedTimeoutSeconds: positive('seed-timeout-seconds', values['seed-timeout-seconds'], 300, false),
    seed: values.seed === undefined ? 42 : Number(values.seed),
    fork: values.fork,
    url: values.url,
    user: values.user ?? 'bench',
    password: values.password,
    calendarHome: values['calendar-home'],
    serverName: values['server-name'] ?? (values.url === undefined ? 'almanac' : 'external'),
  };
}

// ---- the server under test ----------------------------------------------------------------------

interface Target extends LoadTarget {
  /** Whether this is our own Almanac, whose stricter promises (byte-for-byte bodies) are checked too. */
  readonly ownAlmanac: boolean;
  stop(): Promise<void>;
}

function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

async function forkAlmanac(dataDir: string, user: string, password: string): Promise<BenchServer> {
  const child = fork(new URL('./server-process.ts', import.meta.url), [], {
    env: { ...process.env, BENCH_DATA_DIR: dataDir, BENCH_USER: user, BENCH_PASSWORD: password },
    // The child's stdout goes to our stderr: stdout carries only result lines.
    stdio: ['ignore', 2, 2, 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new BenchFailure('the forked Almanac did not report its URL within 30 s')), 30_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      const reported = (message as { url?: unknown }).url;
      if (typeof reported === 'string') resolve(reported);
      else reject(new BenchFailure('the forked Almanac sent an unexpected message'));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new BenchFailure(`the forked Almanac exited with code ${String(code)} before reporting its URL`));
    });
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send('stop');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function startTarget(options: Options): Promise<Target> {
  if (options.url !== undefined) {
    return { baseUrl: options.url, authorization: basicAuth(options.user, options.password ?? ''), ownAlmanac: false, stop: () => Promise.resolve() };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'almanac-bench-'));
  const password = options.password ?? randomBytes(18).toString('base64url');
  const removeDataDir = (): void => rmSync(dataDir, { recursive: true, force: true });
  let server: BenchServer;
  try {
    if (options.fork) {
      server = await forkAlmanac(dataDir, options.user, password);
    } else {
      const { startBenchAlmanac } = await import('./almanac-server.ts');
      server = await startBenchAlmanac({ dataDir, user: options.user, password });
    }
  } catch (error) {
    removeDataDir();
    throw error;
  }
  log(`started Almanac ${options.fork ? 'in a child process' : 'in-process'} at ${server.url} with data in ${dataDir}`);
  return {
    baseUrl: server.url,
    authorization: basicAuth(options.user, password),
    ownAlmanac: true,
    stop: async () => {
      try {
        await server.stop();
      } finally {
        removeDataDir();
      }
    },
  };
}

// ---- multistatus reading -------------------------------------------------------------------------

const RESPONSE_OPEN = /<(?:[A-Za-z_][\w.-]*:)?response[\s>]/gu;
const RESPONSE_BLOCK = /<(?:[A-Za-z_][\w.-]*:)?response[\s>][\s\S]*?<\/(?:[A-Za-z_][\w.-]*:)?response\s*>/gu;
const HREF = /<(?:[A-Za-z_][\w.-]*:)?href(?:\s[^>]*)?>([^<]*)<\//u;
const GETETAG = /<(?:[A-Za-z_][\w.-]*:)?getetag(?:\s[^>]*)?>([^<]*)<\//u;

function decodeXmlText(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|quot|amp|lt|gt|apos);/gu, (_, entity: string) => {
    switch (entity) {
      case 'quot':
        return '"';
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'apos':
        return "'";
      default:
        return String.fromCodePoint(entity.startsWith('#x') ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10));
    }
  });
}

/** Each <response>'s href (decoded, path only) and getetag, read the simple way a benchmark can afford. */
function readMultistatus(xml: string): { openTags: number; entries: { href: string; etag: string | undefined }[] } {
  const openTags = xml.match(RESPONSE_OPEN)?.length ?? 0;
  const entries: { href: string; etag: string | undefined }[] = [];
  for (const block of xml.match(RESPONSE_BLOCK) ?? []) {
    const href = HREF.exec(block)?.[1];
    const etag = GETETAG.exec(block)?.[1];
    const raw = decodeXmlText(href ?? '');
    const path = raw.startsWith('/') ? raw : new URL(raw, 'http://x/').pathname;
    entries.push({ href: decodeURIComponent(path), etag: etag === undefined ? undefined : decodeXmlText(etag) });
  }
  return { openTags, entries };
}

// ---- scenarios -----------------------------------------------------------------------------------

const CALENDAR_CONTENT_TYPE = 'text/calendar; charset=utf-8';
const XML_CONTENT_TYPE = 'application/xml; charset=utf-8';
const MKCOL_BODY = '<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:resourcetype><D:collection/><C:calendar/></D:resourcetype></D:prop></D:set></D:mkcol>';
const PROPFIND_MEMBERS = '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:getcontenttype/></D:prop></D:propfind>';
const PROPFIND_COLLECTION = '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:prop><D:resourcetype/><D:displayname/><CS:getctag/><D:sync-token/></D:prop></D:propfind>';

/** What the benchmark knows about one object: the spec of its current body and its current ETag. */
interface Tracked {
  spec: EventSpec;
  etag: string | undefined;
  /** Reserved by an update in flight, or retired after an update whose outcome is unknown. */
  busy: boolean;
}

interface Run {
  readonly options: Options;
  readonly target: Target;
  readonly signal: AbortSignal;
  /** A short-lived agent for the one-off requests between scenarios. */
  readonly agent: Agent;
}

function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function emit(run: Run, scenario: string, collectionSize: number, concurrency: number, result: LoadResult): void {
  const line = {
    scenario,
    collectionSize,
    concurrency,
    ops: result.ops,
    seconds: round(result.seconds),
    opsPerSecond: round(result.opsPerSecond, 1),
    p50Ms: round(result.p50),
    p95Ms: round(result.p95),
    p99Ms: round(result.p99),
    maxMs: round(result.max),
    errors: result.errors,
    server: run.options.serverName,
    statusCounts: result.statusCounts,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function scenario(
  run: Run,
  name: string,
  size: number,
  limits: { concurrency: number; maxSeconds: number; maxRequests: number },
  next: (sequence: number) => BenchRequest,
): Promise<LoadResult> {
  log(`[${size}] ${name}: concurrency ${limits.concurrency}, at most ${limits.maxSeconds} s and ${limits.maxRequests} requests`);
  const result = await runLoad(run.target, { ...limits, next, signal: run.signal, onError: (description) => log(`[${size}] ${name} error: ${description}`) });
  // A run cut short by Ctrl-C is not a measurement: no result line for it.
  if (run.signal.aborted) throw new BenchFailure('interrupted');
  emit(run, name, size, limits.concurrency, result);
  return result;
}

async function oneOff(run: Run, spec: Omit<BenchRequest, 'expect' | 'done'>): Promise<{ response: BenchResponse; ms: number }> {
  const begin = performance.now();
  const response = await send(run.agent, run.target, spec);
  return { response, ms: performance.now() - begin };
}

function statusError(what: string, response: BenchResponse, ms: number): BenchFailure {
  const snippet = response.body.toString('utf8', 0, Math.min(response.body.byteLength, 500)).replace(/\s+/gu, ' ');
  return new BenchFailure(`${what}: status ${response.status} after ${ms.toFixed(1)} ms: ${snippet}`);
}

async function createCalendar(run: Run, path: string): Promise<void> {
  const mkcol = { method: 'MKCOL', path, headers: { 'Content-Type': XML_CONTENT_TYPE }, body: MKCOL_BODY };
  let { response, ms } = await oneOff(run, mkcol);
  if (response.status === 405 && !run.target.ownAlmanac) {
    // A previous run against this server left the calendar behind: start from an empty one.
    log(`${path} exists already; deleting it first`);
    const removed = await oneOff(run, { method: 'DELETE', path });
    if (removed.response.status >= 300) throw statusError(`DELETE ${path}`, removed.response, removed.ms);
    ({ response, ms } = await oneOff(run, mkcol));
  }
  if (response.status !== 201) throw statusError(`MKCOL ${path}`, response, ms);
}

/** PROPFIND Depth 1 once, checked: exactly size + 1 responses, every object present with the ETag we hold. */
async function verifyListing(run: Run, collection: string, objects: readonly Tracked[], when: string): Promise<void> {
  const { response, ms } = await oneOff(run, { method: 'PROPFIND', path: collection, headers: { Depth: '1', 'Content-Type': XML_CONTENT_TYPE }, body: PROPFIND_MEMBERS });
  if (response.status !== 207) throw statusError(`PROPFIND Depth 1 ${collection} (${when})`, response, ms);
  const { openTags, entries } = readMultistatus(response.body.toString('utf8'));
  const expected = objects.length + 1;
  log(`[${objects.length}] PROPFIND Depth 1 check (${when}): 207 with ${openTags} responses, ${response.body.byteLength} bytes in ${ms.toFixed(1)} ms`);
  if (openTags !== expected || entries.length !== expected) {
    throw new BenchFailure(`PROPFIND Depth 1 ${collection} (${when}) returned ${openTags} <response> elements (${entries.length} complete), expected exactly ${expected}`);
  }
  const byName = new Map(objects.map((tracked) => [tracked.spec.name, tracked]));
  const seen = new Set<string>();
  let adopted = 0;
  for (const entry of entries) {
    if (entry.href === collection || `${entry.href}/` === collection) continue;
    const name = entry.href.slice(entry.href.lastIndexOf('/') + 1);
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
  if (adopted > 0) log(`[${objects.length}] ${adopted} ETags taken from the listing because PUT did not return them`);
}

/** Picks a random object no update is using; bounded: a few random tries, then one scan. */
function pickFree(random: Random, objects: readonly Tracked[]): Tracked {
  for (let attempt = 0; attempt < 32; attempt++) {
    const candidate = objects[Math.floor(random() * objects.length)];
    if (candidate !== undefined && !candidate.busy) return candidate;
  }
  const offset = Math.floor(random() * objects.length);
  for (let i = 0; i < objects.length; i++) {
    const candidate = objects[(offset + i) % objects.length];
    if (candidate !== undefined && !candidate.busy) return candidate;
  }
  // Everything retired: send to any object; the stale If-Match then shows up as errors.
  const fallback = objects[offset];
  if (fallback === undefined) throw new BenchFailure('no objects to update');
  return fallback;
}

function etagOf(response: BenchResponse): string | undefined {
  const value = response.headers.etag;
  return typeof value === 'string' ? value : undefined;
}

async function benchCollection(run: Run, size: number): Promise<number> {
  const { options } = run;
  const home = options.calendarHome ?? `/calendars/${encodeURIComponent(options.user)}/`;
  const collection = `${home.endsWith('/') ? home : `${home}/`}bench-${size}/`;
  const random = mulberry32(options.seed + size);
  const limits = { concurrency: options.concurrency, maxSeconds: options.durationSeconds, maxRequests: options.maxRequests };
  let errors = 0;

  await createCalendar(run, collection);
  const objects: Tracked[] = generateEventSpecs(size, options.seed + size).map((spec) => ({ spec, etag: undefined, busy: false }));
  const pathOf = (tracked: Tracked): string => `${collection}${encodeURIComponent(tracked.spec.name)}`;

  // PUT (create): fill the calendar, each object exactly once.
  const seeded = await scenario(run, 'PUT (create)', size, { concurrency: options.seedConcurrency, maxSeconds: options.seedTimeoutSeconds, maxRequests: size }, (sequence) => {
    const tracked = objects[sequence];
    if (tracked === undefined) throw new BenchFailure(`no object ${sequence}`);
    return {
      method: 'PUT',
      path: pathOf(tracked),
      headers: { 'Content-Type': CALENDAR_CONTENT_TYPE, 'If-None-Match': '*' },
      body: renderEvent(tracked.spec),
      expect: [201],
      done: (response) => {
        if (response !== null) tracked.etag = etagOf(response);
        return undefined;
      },
    };
  });
  errors += seeded.errors;
  if (seeded.ops !== size) throw new BenchFailure(`seeding ${collection} created ${seeded.ops} of ${size} objects within ${options.seedTimeoutSeconds} s`);
  await verifyListing(run, collection, objects, 'after seeding');

  if (run.target.ownAlmanac) {
    // Almanac stores bodies byte for byte (other servers may normalise them, so only checked here).
    const sample = objects[0];
    if (sample !== undefined) {
      const { response, ms } = await oneOff(run, { method: 'GET', path: pathOf(sample) });
      if (response.status !== 200) throw statusError(`GET ${pathOf(sample)}`, response, ms);
      if (!response.body.equals(Buffer.from(renderEvent(sample.spec), 'utf8'))) throw new BenchFailure(`GET ${pathOf(sample)} did not return the bytes that were PUT`);
    }
  }

  // GET: random existing objects; the ETag must be the one the last PUT returned.
  const got = await scenario(run, 'GET', size, limits, () => {
    const tracked = objects[Math.floor(random() * objects.length)] ?? objects[0];
    if (tracked === undefined) throw new BenchFailure('empty collection');
    return {
      method: 'GET',
      path: pathOf(tracked),
      expect: [200],
      done: (response) => (response === null || response.status !== 200 || etagOf(response) === tracked.etag ? undefined : `200-etag-mismatch`),
    };
  });
  errors += got.errors;

  // PUT (update): random objects not being updated by another worker, If-Match the current ETag.
  const updateStatuses = run.target.ownAlmanac ? [204] : [200, 204];
  const updated = await scenario(run, 'PUT (update)', size, limits, () => {
    const tracked = pickFree(random, objects);
    tracked.busy = true;
    const revised = reviseEvent(random, tracked.spec);
    return {
      method: 'PUT',
      path: pathOf(tracked),
      headers: { 'Content-Type': CALENDAR_CONTENT_TYPE, 'If-Match': tracked.etag ?? '*' },
      body: renderEvent(revised),
      expect: updateStatuses,
      done: (response) => {
        if (response === null || !updateStatuses.includes(response.status)) {
          // Unknown outcome (or a refusal): leave the object reserved so later If-Match stay truthful.
          return undefined;
        }
        const etag = etagOf(response);
        if (etag === undefined) return `${response.status}-no-etag`;
        tracked.spec = revised;
        tracked.etag = etag;
        tracked.busy = false;
        return undefined;
      },
    };
  });
  errors += updated.errors;
  if (updated.errors === 0) await verifyListing(run, collection, objects, 'after updates');

  // PROPFIND Depth 1: the listing a client fetches to find changed ETags.
  const listed = await scenario(run, 'PROPFIND Depth 1', size, limits, () => ({
    method: 'PROPFIND',
    path: collection,
    headers: { Depth: '1', 'Content-Type': XML_CONTENT_TYPE },
    body: PROPFIND_MEMBERS,
    expect: [207],
  }));
  errors += listed.errors;

  // PROPFIND Depth 0: the cheap "has anything changed?" poll on the collection itself.
  const polled = await scenario(run, 'PROPFIND Depth 0', size, limits, () => ({
    method: 'PROPFIND',
    path: collection,
    headers: { Depth: '0', 'Content-Type': XML_CONTENT_TYPE },
    body: PROPFIND_COLLECTION,
    expect: [207],
  }));
  errors += polled.errors;
  return errors;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const abort = new AbortController();
  const interrupt = (): void => {
    log('interrupted: finishing requests in flight, then cleaning up');
    abort.abort();
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  const started = performance.now();
  const target = await startTarget(options);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const run: Run = { options, target, signal: abort.signal, agent };
  let errors = 0;
  try {
    for (const size of options.sizes) errors += await benchCollection(run, size);
  } finally {
    agent.destroy();
    await target.stop();
  }
  log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s${errors > 0 ? ` with ${errors} failed requests` : ''}`);
  return errors > 0 ? 1 : 0;
}

void main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log(error instanceof BenchFailure ? `bench failed: ${error.message}` : `bench crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
