// `node bench/generate-db.ts`: builds a realistic Almanac SQLite database from a seed — users, each
// with calendars of events (~20% recurring, named time zones, ~8% tasks) and an address book of
// contacts — through the real write path (the DAV server in this process: validation, metadata,
// indexes, change log), and writes a manifest (users, password, collections, sizes, naming) that
// load-oracle.ts reads to know every collection's true content. Objects are named o<i>.ics/.vcf with
// UID <user>-<collection>-o<i>@gen.almanac.example, so the oracle needs no list of names.
import { fork } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { hashPassword } from '../src/auth/passwords.ts';
import { DEFAULTS, type Config } from '../src/config/config.ts';
import type { DavServer } from '../src/dav/server.ts';
import { buildDavServer } from '../src/http/app.ts';
import { currentReleaseIdentity } from '../src/release/identity.ts';
import { SQLITE_MIGRATIONS } from '../src/store/sqlite/migrations/index.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { chance, contactSpec, eventSpec, mulberry32, renderContact, renderItem, taskSpec, type Random } from './generate.ts';

export interface GenerateOptions {
  readonly dataDir: string;
  readonly users: number;
  readonly calendarsPerUser: number;
  /** Mean objects per calendar; each calendar gets between half and one and a half times it. */
  readonly eventsPerCalendar: number;
  readonly contactsPerUser: number;
  readonly seed: number;
  readonly password: string;
  /** Child processes filling slices of the users side by side (default 1: this process). */
  readonly jobs?: number;
  /**
   * Build the database on the schema before the reference migration (0009/0010 object_busy),
   * recorded as an older release (0.0.9), so this release meets it as a real upgrade does.
   */
  readonly previousSchema?: boolean;
  readonly log?: (line: string) => void;
}

/** The schema version the previous release stopped at, and the identity it recorded. */
export const PREVIOUS_SCHEMA_VERSION = 8;
export const PREVIOUS_RELEASE = { version: '0.0.9', migrationHash: 'prev' } as const;

function openGeneratorStore(options: GenerateOptions): SqliteStore {
  if (options.previousSchema !== true) return SqliteStore.open({ dataDir: options.dataDir, release: currentReleaseIdentity(), bulkLoad: true });
  return SqliteStore.open({ dataDir: options.dataDir, migrations: SQLITE_MIGRATIONS.filter((m) => m.version <= PREVIOUS_SCHEMA_VERSION), release: PREVIOUS_RELEASE, bulkLoad: true });
}

export interface ManifestCollection {
  readonly href: string;
  readonly kind: 'calendar' | 'addressbook';
  readonly count: number;
}

export interface Manifest {
  readonly seed: number;
  readonly password: string;
  readonly users: readonly { readonly name: string; readonly collections: readonly ManifestCollection[] }[];
  readonly objects: number;
}

export const MANIFEST_FILE = 'generated-manifest.json';

/** Resource name and UID of the i-th generated (or oracle-created) object of a collection. */
export function objectName(kind: 'calendar' | 'addressbook', index: number | string): string {
  return `o${index}.${kind === 'calendar' ? 'ics' : 'vcf'}`;
}

export function objectUid(href: string, index: number | string): string {
  const [, , user = '', collection = ''] = href.split('/');
  return `${decodeURIComponent(user)}-${decodeURIComponent(collection)}-o${index}@gen.almanac.example`;
}

/** A calendar object (event, or a task one time in twelve) with the given UID. */
export function calendarObject(random: Random, uid: string, index: number): string {
  const item = chance(random, 1 / 12) ? { ...taskSpec(random, index), uid } : { ...eventSpec(random, index), uid };
  return renderItem(item);
}

export function contactObject(random: Random, uid: string, index: number): string {
  return renderContact({ ...contactSpec(random, index), uid });
}

function userName(index: number): string {
  return `user${String(index).padStart(5, '0')}`;
}

async function put(dav: DavServer, auth: string, href: string, body: string, contentType: string): Promise<void> {
  const { response } = await dav.handle({ method: 'PUT', target: href, headers: { authorization: auth, 'content-type': contentType, 'if-none-match': '*' }, body: Buffer.from(body), requestId: 'generate', clientAddress: '127.0.0.1' });
  if (response.status !== 201) throw new Error(`PUT ${href} answered ${response.status}: ${String(response.body)}`);
}

async function mkcalendar(dav: DavServer, auth: string, href: string): Promise<void> {
  const { response } = await dav.handle({ method: 'MKCALENDAR', target: href, headers: { authorization: auth }, body: Buffer.alloc(0), requestId: 'generate', clientAddress: '127.0.0.1' });
  if (response.status !== 201) throw new Error(`MKCALENDAR ${href} answered ${response.status}`);
}

interface UsersResult {
  readonly users: { name: string; collections: ManifestCollection[] }[];
  readonly objects: number;
}

/** Fills users [from, to); each user's data comes from its own seeded stream, so a split changes nothing. */
async function generateUsers(options: GenerateOptions, from: number, to: number): Promise<UsersResult> {
  const log = options.log ?? (() => undefined);
  const started = performance.now();
  const store = openGeneratorStore(options);
  const config: Config = { ...DEFAULTS, data: options.dataDir, logLevel: 'warn' };
  const dav = buildDavServer(store, config, pino({ level: 'warn' }));
  // One hash for every account: argon2 is slow on purpose, and these are test accounts.
  const passwordHash = await hashPassword(options.password);
  const users: { name: string; collections: ManifestCollection[] }[] = [];
  let objects = 0;
  let lastReport = performance.now();
  try {
    for (let u = from; u < to; u++) {
      const random = mulberry32((options.seed * 1_000_003 + u) >>> 0);
      const name = userName(u);
      await store.createUser({ name, email: `${name}@gen.almanac.example`, displayName: `Generated user ${u}`, passwordHash });
      const auth = `Basic ${Buffer.from(`${name}:${options.password}`).toString('base64')}`;
      const collections: ManifestCollection[] = [];
      for (let c = 0; c < options.calendarsPerUser; c++) {
        const href = `/calendars/${name}/${c === 0 ? 'default' : `cal${c}`}/`;
        // The first request creates the default homes; the others are made like a client makes them.
        if (c > 0) await mkcalendar(dav, auth, href);
        const count = Math.round(options.eventsPerCalendar * (0.5 + random()));
        for (let i = 0; i < count; i++) {
          await put(dav, auth, `${href}${objectName('calendar', i)}`, calendarObject(random, objectUid(href, i), i), 'text/calendar; charset=utf-8');
        }
        collections.push({ href, kind: 'calendar', count });
        objects += count;
      }
      const book = `/addressbooks/${name}/default/`;
      for (let i = 0; i < options.contactsPerUser; i++) {
        await put(dav, auth, `${book}${objectName('addressbook', i)}`, contactObject(random, objectUid(book, i), i), 'text/vcard; charset=utf-8');
      }
      collections.push({ href: book, kind: 'addressbook', count: options.contactsPerUser });
      objects += options.contactsPerUser;
      users.push({ name, collections });
      if (performance.now() - lastReport > 5000) {
        lastReport = performance.now();
        const seconds = (lastReport - started) / 1000;
        log(`${u + 1 - from}/${to - from} users, ${objects} objects, ${Math.round(objects / seconds)} objects/s`);
      }
    }
  } finally {
    await store.close();
  }
  return { users, objects };
}

const SLICE_ENV = 'ALMANAC_GENERATE_SLICE';

/** Runs slices of the users in child processes: the parsing and validation run in parallel. */
async function generateInJobs(options: GenerateOptions, jobs: number): Promise<UsersResult> {
  const results = await Promise.all(
    Array.from({ length: jobs }, (_, job) => {
      const from = Math.floor((options.users * job) / jobs);
      const to = Math.floor((options.users * (job + 1)) / jobs);
      const { log: _log, ...plain } = options;
      const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, [SLICE_ENV]: JSON.stringify({ options: plain, from, to }) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      return new Promise<UsersResult>((resolvePart, reject) => {
        child.once('message', (message) => resolvePart(message as UsersResult));
        child.once('exit', (code) => {
          if (code !== 0) reject(new Error(`generator job ${job} exited with ${code}`));
        });
      });
    }),
  );
  return { users: results.flatMap((r) => r.users), objects: results.reduce((sum, r) => sum + r.objects, 0) };
}

export async function generateDatabase(options: GenerateOptions): Promise<{ manifest: Manifest; seconds: number; objectsPerSecond: number }> {
  mkdirSync(options.dataDir, { recursive: true });
  if (readdirSync(options.dataDir).length > 0) throw new Error(`${options.dataDir} is not empty; the generator only fills a new data folder`);
  const started = performance.now();
  const jobs = Math.max(1, Math.min(options.jobs ?? 1, options.users));
  let result: UsersResult;
  if (jobs === 1) result = await generateUsers(options, 0, options.users);
  else {
    // The schema first, so the jobs do not race to create it.
    await openGeneratorStore(options).close();
    result = await generateInJobs(options, jobs);
  }
  const manifest: Manifest = { seed: options.seed, password: options.password, users: result.users, objects: result.objects };
  writeFileSync(join(options.dataDir, MANIFEST_FILE), `${JSON.stringify(manifest)}\n`);
  const seconds = (performance.now() - started) / 1000;
  return { manifest, seconds, objectsPerSecond: result.objects / seconds };
}

const USAGE = `usage: node bench/generate-db.ts --data DIR [--users 40] [--calendars 2] [--events 200] [--contacts 100] [--seed 42] [--password generated-secret] [--jobs 1] [--previous-schema]
  --previous-schema: the schema before migration 0009 (object_busy), recorded as release 0.0.9
  objects = users × (calendars × events + contacts); e.g. --users 2000 --events 200 --contacts 100 gives 1,000,000`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      data: { type: 'string' },
      users: { type: 'string', default: '40' },
      calendars: { type: 'string', default: '2' },
      events: { type: 'string', default: '200' },
      contacts: { type: 'string', default: '100' },
      seed: { type: 'string', default: '42' },
      password: { type: 'string', default: 'generated-secret' },
      jobs: { type: 'string', default: '1' },
      'previous-schema': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || values.data === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const count = (text: string, name: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number`);
    return value;
  };
  const result = await generateDatabase({
    dataDir: resolve(values.data),
    users: count(values.users, 'users'),
    calendarsPerUser: Math.max(1, count(values.calendars, 'calendars')),
    eventsPerCalendar: count(values.events, 'events'),
    contactsPerUser: count(values.contacts, 'contacts'),
    seed: count(values.seed, 'seed'),
    password: values.password,
    jobs: Math.max(1, count(values.jobs, 'jobs')),
    previousSchema: values['previous-schema'],
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify({ objects: result.manifest.objects, users: result.manifest.users.length, seconds: Math.round(result.seconds * 10) / 10, objectsPerSecond: Math.round(result.objectsPerSecond) })}\n`);
  return 0;
}

const slice = process.env[SLICE_ENV];
if (slice !== undefined && process.send !== undefined) {
  const { options, from, to } = JSON.parse(slice) as { options: GenerateOptions; from: number; to: number };
  void generateUsers({ ...options, log: (line) => process.stderr.write(`job ${from}-${to}: ${line}\n`) }, from, to).then(
    (result) => process.send?.(result, () => process.exit(0)),
    (error: unknown) => {
      process.stderr.write(`generator job failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
} else if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  void main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`generate-db failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
