// The load oracle: a bounded open-loop client on 127.0.0.1 (a fixed request rate, a duration and a
// cap on requests in flight) sending a mix of PROPFIND Depth 1, sync-collection (initial and
// incremental), multiget, GET, PUT and DELETE over the users and collections of a database made by
// generate-db.ts, checking every answer against what it knows to be true (oracle-model.ts), then
// checking at the end that no acknowledged write was lost. Phases ('before', 'during', 'after'…)
// are switched from outside; the summary gives per phase the share of 503s and p50/p99 latency.
// `node bench/load-oracle.ts --help`; bench/README.md.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { calendarObject, contactObject, MANIFEST_FILE, objectName, objectUid, type Manifest } from './generate-db.ts';
import { mulberry32, type Random } from './generate.ts';
import { checkFullListing, checkMultiget, checkSyncDelta, parseMultistatus, percentile, retriedWriteUncertain, type CollectionModel, type Verdict } from './oracle-model.ts';

export interface OracleOptions {
  readonly url: string;
  readonly manifest: Manifest;
  readonly rate: number;
  readonly maxInFlight: number;
  readonly seed?: number;
  readonly requestTimeoutMs?: number;
  /** Share of requests sent on a new connection (the rest reuse keep-alive connections). */
  readonly freshConnectionShare?: number;
}

type Operation = 'propfind' | 'sync-initial' | 'sync-incremental' | 'multiget' | 'get' | 'put-create' | 'put-update' | 'delete';
const MIX: readonly [Operation, number][] = [
  ['propfind', 16],
  ['sync-initial', 6],
  ['sync-incremental', 14],
  ['multiget', 14],
  ['get', 24],
  ['put-create', 10],
  ['put-update', 8],
  ['delete', 8],
];

export interface PhaseReport {
  requests: number;
  answered: number;
  unavailable: number;
  share503: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  byOperation: Record<string, { requests: number; p50Ms: number; p99Ms: number }>;
}

export interface OracleReport {
  readonly requests: number;
  readonly phases: Record<string, PhaseReport>;
  readonly violations: {
    failedResponses: number;
    refusedOrReset: number;
    emptyListings: number;
    shortListings: number;
    wrongAnswers: number;
    lostWrites: number;
  };
  /** Ticks that found max-in-flight requests pending or every collection busy (client limit, not a server fault). */
  readonly skipped: number;
  readonly acknowledgedWrites: number;
  /** Requests retried after a reused idle keep-alive connection was reset before any answer. */
  readonly keepAliveRetries: number;
  readonly examples: string[];
  readonly ok: boolean;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  /** Sent again after its first connection was reset before any answer. */
  readonly retried?: boolean;
}

const PROPFIND = '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:getcontenttype/></D:prop></D:propfind>';

function syncBody(token: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>${token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`;
}

function multigetBody(kind: 'calendar' | 'addressbook', hrefs: readonly string[]): string {
  const [ns, root, data] = kind === 'calendar' ? ['urn:ietf:params:xml:ns:caldav', 'calendar-multiget', 'calendar-data'] : ['urn:ietf:params:xml:ns:carddav', 'addressbook-multiget', 'address-data'];
  return `<?xml version="1.0" encoding="utf-8"?><C:${root} xmlns:D="DAV:" xmlns:C="${ns}"><D:prop><D:getetag/><C:${data}/></D:prop>${hrefs.map((h) => `<D:href>${h}</D:href>`).join('')}</C:${root}>`;
}

class StaleConnection extends Error {}

function header(answer: Answer, name: string): string | undefined {
  const value = answer.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export class LoadOracle {
  private readonly options: OracleOptions;
  private readonly random: Random;
  private readonly collections: CollectionModel[] = [];
  private readonly keepAlive: Agent;
  private readonly fresh: Agent;
  private phase = 'run';
  private readonly latencies = new Map<string, Map<Operation, number[]>>();
  private readonly phaseCounts = new Map<string, { requests: number; answered: number; unavailable: number }>();
  private readonly violations = { failedResponses: 0, refusedOrReset: 0, emptyListings: 0, shortListings: 0, wrongAnswers: 0, lostWrites: 0 };
  private readonly examples: string[] = [];
  private inFlight = 0;
  private requests = 0;
  private skipped = 0;
  private keepAliveRetries = 0;
  private acknowledgedWrites = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(options: OracleOptions) {
    this.options = options;
    this.random = mulberry32(options.seed ?? 7);
    this.keepAlive = new Agent({ keepAlive: true, maxSockets: options.maxInFlight });
    this.fresh = new Agent({ keepAlive: false });
    for (const user of options.manifest.users) {
      const auth = `Basic ${Buffer.from(`${user.name}:${options.manifest.password}`).toString('base64')}`;
      for (const c of user.collections) {
        const members = new Map<string, { uid: string; etag: string | undefined }>();
        for (let i = 0; i < c.count; i++) members.set(objectName(c.kind, i), { uid: objectUid(c.href, i), etag: undefined });
        this.collections.push({ href: c.href, kind: c.kind, auth, members, uncertain: new Set(), written: new Set(), sync: undefined, nextIndex: c.count, busy: false });
      }
    }
    if (this.collections.length === 0) throw new Error('the manifest has no collections');
  }

  setPhase(name: string): void {
    this.phase = name;
  }

  /** Starts sending at the fixed rate until stop(). */
  start(): void {
    this.running = true;
    this.loop = this.schedule();
  }

  private async schedule(): Promise<void> {
    const started = performance.now();
    let issued = 0;
    while (this.running) {
      const due = Math.floor(((performance.now() - started) / 1000) * this.options.rate);
      for (; issued < due; issued++) {
        if (this.inFlight >= this.options.maxInFlight) {
          this.skipped += 1;
          continue;
        }
        const collection = this.pickIdleCollection();
        if (collection === undefined) {
          this.skipped += 1;
          continue;
        }
        const task = this.exercise(collection).finally(() => this.pending.delete(task));
        this.pending.add(task);
      }
      await sleep(Math.max(1, Math.min(20, 1000 / this.options.rate)));
    }
  }

  private pickIdleCollection(): CollectionModel | undefined {
    // One request per collection at a time, so the truth is never ambiguous.
    for (let attempt = 0; attempt < 8; attempt++) {
      const collection = this.collections[Math.floor(this.random() * this.collections.length)];
      if (collection !== undefined && !collection.busy) return collection;
    }
    return undefined;
  }

  private chooseOperation(collection: CollectionModel): Operation {
    const total = MIX.reduce((sum, [, weight]) => sum + weight, 0);
    let roll = this.random() * total;
    let chosen: Operation = 'get';
    for (const [operation, weight] of MIX) {
      roll -= weight;
      if (roll < 0) {
        chosen = operation;
        break;
      }
    }
    if (chosen === 'sync-incremental' && collection.sync === undefined) return 'sync-initial';
    if ((chosen === 'delete' || chosen === 'put-update' || chosen === 'get' || chosen === 'multiget') && collection.members.size === 0) return 'put-create';
    return chosen;
  }

  private problem(kind: keyof OracleReport['violations'], message: string): void {
    this.violations[kind] += 1;
    if (this.examples.length < 20) this.examples.push(`[${this.phase}] ${kind}: ${message}`);
  }

  private record(verdict: Verdict): void {
    for (const p of verdict.problems) this.problem(p.kind === 'empty' ? 'emptyListings' : p.kind === 'short' ? 'shortListings' : 'wrongAnswers', p.message);
  }

  /**
   * One request. A reset of a reused keep-alive connection before any answer is the race every
   * HTTP/1.1 client meets when a server closes an idle connection as the request goes out; as RFC
   * 9112 §9.3.1.1 allows for idempotent methods (all of the oracle's), it is retried once on a new
   * connection, like clients do, and counted (keepAliveRetries). Anything else is a failure.
   */
  private async send(collection: CollectionModel, method: string, path: string, body: string, headers: Record<string, string>): Promise<Answer> {
    const agent = this.random() < (this.options.freshConnectionShare ?? 0.1) ? this.fresh : this.keepAlive;
    try {
      return await this.sendOnce(collection, agent, method, path, body, headers);
    } catch (error) {
      if (!(error instanceof StaleConnection)) throw error;
      this.keepAliveRetries += 1;
      if (this.examples.length < 20) this.examples.push(`[${this.phase}] keep-alive retry: ${method} ${path}: ${error.message}`);
      return { ...(await this.sendOnce(collection, this.fresh, method, path, body, headers)), retried: true };
    }
  }

  private sendOnce(collection: CollectionModel, agent: Agent, method: string, path: string, body: string, headers: Record<string, string>): Promise<Answer> {
    return new Promise((resolve, reject) => {
      let answered = false;
      const req = request(new URL(path, this.options.url), { method, agent, headers: { authorization: collection.auth, ...headers } }, (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        // Which connection failed tells a keep-alive race (a reused idle connection the server
        // closed just as the request went out) from a refused or dropped new connection.
        const where = req.reusedSocket ? 'reused keep-alive connection' : agent === this.fresh ? 'new connection' : 'new keep-alive connection';
        if (req.reusedSocket && error.code === 'ECONNRESET' && !answered) reject(new StaleConnection(`${error.message} (${where})`));
        else {
          error.message = `${error.message} (${where})`;
          reject(error);
        }
      });
      const timeout = this.options.requestTimeoutMs ?? 30_000;
      req.setTimeout(timeout, () => req.destroy(new Error(`no answer within ${timeout} ms`)));
      req.end(body);
    });
  }

  private randomMember(collection: CollectionModel): string | undefined {
    const names = [...collection.members.keys()];
    return names[Math.floor(this.random() * names.length)];
  }

  private async exercise(collection: CollectionModel): Promise<void> {
    collection.busy = true;
    this.inFlight += 1;
    this.requests += 1;
    const phase = this.phase;
    const counts = this.phaseCounts.get(phase) ?? { requests: 0, answered: 0, unavailable: 0 };
    this.phaseCounts.set(phase, counts);
    counts.requests += 1;
    const operation = this.chooseOperation(collection);
    const started = performance.now();
    try {
      const outcome = await this.perform(collection, operation);
      if (outcome === 'unavailable') counts.unavailable += 1;
      else {
        counts.answered += 1;
        const perPhase = this.latencies.get(phase) ?? new Map<Operation, number[]>();
        this.latencies.set(phase, perPhase);
        const list = perPhase.get(operation) ?? [];
        perPhase.set(operation, list);
        list.push(performance.now() - started);
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      this.problem('refusedOrReset', `${operation} ${collection.href}: ${code} ${(error as Error).message}`);
    } finally {
      this.inFlight -= 1;
      collection.busy = false;
    }
  }

  /** One request and its check; 'unavailable' for a 503 with Retry-After. */
  private async perform(collection: CollectionModel, operation: Operation): Promise<'ok' | 'unavailable' | 'failed'> {
    const { href, kind } = collection;
    const dataType = kind === 'calendar' ? 'text/calendar; charset=utf-8' : 'text/vcard; charset=utf-8';
    const xml = { 'content-type': 'application/xml; charset=utf-8' };
    const classify = (answer: Answer, expected: readonly number[], what: string): 'ok' | 'unavailable' | 'failed' => {
      if (expected.includes(answer.status)) return 'ok';
      if (answer.retried === true && retriedWriteUncertain(what.split(' ')[0] ?? '', answer.status)) return 'failed';
      if (answer.status === 503) {
        if (header(answer, 'retry-after') !== undefined) return 'unavailable';
        this.problem('failedResponses', `${what}: 503 without Retry-After`);
        return 'failed';
      }
      this.problem('failedResponses', `${what}: ${answer.status} (expected ${expected.join('/')}) ${answer.body.slice(0, 160)}`);
      return 'failed';
    };
    switch (operation) {
      case 'propfind': {
        const answer = await this.send(collection, 'PROPFIND', href, PROPFIND, { ...xml, depth: '1' });
        const verdict = classify(answer, [207], `PROPFIND ${href}`);
        if (verdict === 'ok') this.record(checkFullListing(collection, parseMultistatus(answer.body, href), 'PROPFIND Depth 1'));
        return verdict;
      }
      case 'sync-initial':
      case 'sync-incremental': {
        const base = operation === 'sync-incremental' ? collection.sync : undefined;
        const answer = await this.send(collection, 'REPORT', href, syncBody(base?.token ?? ''), xml);
        if (base !== undefined && (answer.status === 403 || answer.status === 409) && answer.body.includes('valid-sync-token')) {
          collection.sync = undefined; // the token has expired: a client starts over, which is allowed
          return 'ok';
        }
        const verdict = classify(answer, [207], `sync-collection ${href}`);
        if (verdict !== 'ok') return verdict;
        const listing = parseMultistatus(answer.body, href);
        if (base === undefined) this.record(checkFullListing(collection, listing, 'initial sync-collection'));
        else this.record(checkSyncDelta(collection, base, listing));
        if (listing.syncToken === undefined) this.problem('wrongAnswers', `${href}: sync-collection without a sync-token`);
        else collection.sync = { token: listing.syncToken, touched: new Set(), before: new Set(collection.members.keys()) };
        return verdict;
      }
      case 'multiget': {
        const asked = new Set<string>();
        for (let i = 0; i < 10; i++) {
          const name = this.randomMember(collection);
          if (name !== undefined) asked.add(name);
        }
        asked.add(objectName(kind, `missing${Math.floor(this.random() * 1e6)}`));
        const answer = await this.send(collection, 'REPORT', href, multigetBody(kind, [...asked].map((n) => `${href}${n}`)), { ...xml, depth: '1' });
        const verdict = classify(answer, [207], `multiget ${href}`);
        if (verdict === 'ok') this.record(checkMultiget(collection, [...asked], parseMultistatus(answer.body, href)));
        return verdict;
      }
      case 'get': {
        const name = this.randomMember(collection) ?? '';
        const member = collection.members.get(name);
        const answer = await this.send(collection, 'GET', `${href}${name}`, '', {});
        const verdict = classify(answer, [200], `GET ${href}${name}`);
        if (verdict === 'ok' && member !== undefined && !collection.uncertain.has(name)) {
          if (!answer.body.includes(member.uid)) this.problem('wrongAnswers', `GET ${href}${name}: not the object written`);
          else if (member.etag !== undefined && header(answer, 'etag') !== member.etag) this.problem('wrongAnswers', `GET ${href}${name}: ETag ${header(answer, 'etag') ?? 'none'}, acknowledged ${member.etag}`);
        }
        return verdict;
      }
      case 'put-create':
      case 'put-update': {
        const existing = operation === 'put-update' ? this.randomMember(collection) : undefined;
        const index = existing === undefined ? collection.nextIndex++ : undefined;
        const name = existing ?? objectName(kind, index ?? 0);
        const uid = existing === undefined ? objectUid(href, index ?? 0) : (collection.members.get(existing)?.uid ?? '');
        const body = kind === 'calendar' ? calendarObject(this.random, uid, 0) : contactObject(this.random, uid, 0);
        const etag = existing === undefined ? undefined : collection.members.get(existing)?.etag;
        const conditions: Record<string, string> = existing === undefined ? { 'if-none-match': '*' } : etag !== undefined ? { 'if-match': etag } : {};
        const answer = await this.sendWrite(collection, name, 'PUT', `${href}${name}`, body, { 'content-type': dataType, ...conditions });
        const verdict = classify(answer, existing === undefined ? [201] : [200, 204], `PUT ${href}${name}`);
        this.wrote(collection, name, verdict, () => collection.members.set(name, { uid, etag: header(answer, 'etag') }));
        return verdict;
      }
      case 'delete': {
        const name = this.randomMember(collection) ?? '';
        const etag = collection.members.get(name)?.etag;
        const answer = await this.sendWrite(collection, name, 'DELETE', `${href}${name}`, '', etag === undefined ? {} : { 'if-match': etag });
        const verdict = classify(answer, [204, 200], `DELETE ${href}${name}`);
        this.wrote(collection, name, verdict, () => collection.members.delete(name));
        return verdict;
      }
    }
  }

  /**
   * A write whose connection died (refused, reset, a killed server) may or may not have been done:
   * the object becomes uncertain before the error is counted, like an unacknowledged 503.
   */
  private async sendWrite(collection: CollectionModel, name: string, method: string, path: string, body: string, headers: Record<string, string>): Promise<Answer> {
    try {
      return await this.send(collection, method, path, body, headers);
    } catch (error) {
      this.wrote(collection, name, 'failed', () => undefined);
      throw error;
    }
  }

  private wrote(collection: CollectionModel, name: string, verdict: 'ok' | 'unavailable' | 'failed', apply: () => void): void {
    collection.sync?.touched.add(name);
    collection.written.add(name);
    if (verdict === 'ok') {
      apply();
      collection.uncertain.delete(name);
      this.acknowledgedWrites += 1;
    } else {
      // Not acknowledged: the object may or may not have changed.
      collection.uncertain.add(name);
    }
  }

  /** Stops sending, waits for the answers in flight, then checks every written collection. */
  async finish(): Promise<OracleReport> {
    this.running = false;
    await this.loop;
    await Promise.all([...this.pending]);
    this.phase = 'verify';
    for (const collection of this.collections.filter((c) => c.written.size > 0)) {
      try {
        const answer = await this.send(collection, 'PROPFIND', collection.href, PROPFIND, { 'content-type': 'application/xml', depth: '1' });
        if (answer.status !== 207) {
          this.problem('lostWrites', `final check of ${collection.href} answered ${answer.status}`);
          continue;
        }
        for (const p of checkFullListing(collection, parseMultistatus(answer.body, collection.href), 'final listing').problems) this.problem('lostWrites', p.message);
      } catch (error) {
        this.problem('refusedOrReset', `final check of ${collection.href}: ${(error as Error).message}`);
      }
    }
    this.keepAlive.destroy();
    this.fresh.destroy();
    return this.report();
  }

  /** The figures so far, while the load goes on. */
  snapshot(): OracleReport {
    return this.report();
  }

  private report(): OracleReport {
    const phases: Record<string, PhaseReport> = {};
    for (const [name, counts] of this.phaseCounts) {
      const perOp = this.latencies.get(name) ?? new Map<Operation, number[]>();
      const all = [...perOp.values()].flat().sort((a, b) => a - b);
      const byOperation: PhaseReport['byOperation'] = {};
      for (const [operation, values] of perOp) {
        const sorted = [...values].sort((a, b) => a - b);
        byOperation[operation] = { requests: sorted.length, p50Ms: round(percentile(sorted, 50)), p99Ms: round(percentile(sorted, 99)) };
      }
      phases[name] = {
        ...counts,
        share503: counts.requests === 0 ? 0 : round(counts.unavailable / counts.requests, 4),
        p50Ms: round(percentile(all, 50)),
        p99Ms: round(percentile(all, 99)),
        maxMs: round(all.at(-1) ?? 0),
        byOperation,
      };
    }
    const ok = Object.values(this.violations).every((n) => n === 0);
    return { requests: this.requests, phases, violations: { ...this.violations }, skipped: this.skipped, acknowledgedWrites: this.acknowledgedWrites, keepAliveRetries: this.keepAliveRetries, examples: [...this.examples], ok };
  }
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

const USAGE = `usage: node bench/load-oracle.ts --url URL --manifest FILE|--data DIR [--rate 50] [--duration-seconds 30]
       [--max-in-flight 16] [--seed 7] [--fresh-connections 0.1] [--control FILE]
  --control FILE: the file holds the current phase name (e.g. before, during, after), read every
  250 ms; writing "stop" into it ends the run early. Exit code 1 on any violation.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      url: { type: 'string' },
      manifest: { type: 'string' },
      data: { type: 'string' },
      rate: { type: 'string', default: '50' },
      'duration-seconds': { type: 'string', default: '30' },
      'max-in-flight': { type: 'string', default: '16' },
      seed: { type: 'string', default: '7' },
      'fresh-connections': { type: 'string', default: '0.1' },
      control: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const manifestFile = values.manifest ?? (values.data === undefined ? undefined : join(values.data, MANIFEST_FILE));
  if (values.help || values.url === undefined || manifestFile === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  const oracle = new LoadOracle({ url: values.url, manifest, rate: Number(values.rate), maxInFlight: Number(values['max-in-flight']), seed: Number(values.seed), freshConnectionShare: Number(values['fresh-connections']) });
  const readPhase = (): string | undefined => {
    if (values.control === undefined) return undefined;
    try {
      return readFileSync(values.control, 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  };
  oracle.setPhase(readPhase() ?? 'run');
  oracle.start();
  const deadline = performance.now() + Number(values['duration-seconds']) * 1000;
  let stop = false;
  process.once('SIGINT', () => (stop = true));
  while (!stop && performance.now() < deadline) {
    await sleep(250);
    const phase = readPhase();
    if (phase === 'stop') break;
    if (phase !== undefined) oracle.setPhase(phase);
  }
  const report = await oracle.finish();
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return report.ok ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  void main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`load-oracle failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
