// The end-to-end proof of an online migration under load (issue 6): a database generated on the
// previous release's schema, a real `almanac serve` on it (unexpected, so it serves without DDL), the
// load oracle checking every answer before, during and after; `almanac migrate rehearse` and
// `almanac release expect` on the live database, then `almanac restart` (the new worker runs the
// 0009 expand at open, the 0010 backfill runs in the background), optionally a kill -9 of the
// serving worker mid-backfill, `almanac migrate contract` (the triggers dropped) under the same load,
// and at the end object_busy compared with a full recomputation. One
// report, targets checked; test/operations/migration-proof.test.ts runs it small in CI.
// `node bench/migration-proof.ts --help`; bench/README.md. Must not import DAV internals.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { currentReleaseIdentity } from '../src/release/identity.ts';
import type { RehearsalReport } from '../src/release/rehearsal.ts';
import { readBackfill, type BackfillProgress } from '../src/store/sqlite/backfill.ts';
import { migration as busyBackfill } from '../src/store/sqlite/migrations/0010-object-busy-backfill.ts';
import { DATABASE_FILE } from '../src/store/sqlite/sqlite-store.ts';
import { runCli, startServerProcess } from '../test/support/server-process.ts';
import { generateDatabase, MANIFEST_FILE, PREVIOUS_SCHEMA_VERSION, type Manifest } from './generate-db.ts';
import { LoadOracle, type OracleReport } from './load-oracle.ts';

export interface ProofOptions {
  readonly dataDir: string;
  readonly users: number;
  readonly calendarsPerUser: number;
  readonly eventsPerCalendar: number;
  readonly contactsPerUser: number;
  readonly seed: number;
  readonly jobs?: number;
  /** A folder generated before with --previous-schema, copied instead of generating. */
  readonly template?: string;
  /** Oracle requests per second and how long the 'before' and 'after' phases last. */
  readonly rate: number;
  readonly phaseSeconds: number;
  /** kill -9 the serving worker once, when the backfill has done this share of its rows. */
  readonly killAt?: number;
  /** Bound on the whole backfill wait. */
  readonly backfillTimeoutSeconds?: number;
  readonly log?: (line: string) => void;
}

export interface BusyVerification {
  readonly objects: number;
  readonly rows: number;
  /** Objects without an object_busy row. */
  readonly missing: number;
  /** object_busy rows for no object (a row can't be doubled: object_id is its key). */
  readonly orphans: number;
  /** Rows whose values differ from the recomputation. */
  readonly wrong: number;
  readonly examples: string[];
}

export interface ProofReport {
  readonly objects: number;
  readonly generateSeconds: number;
  readonly oracle: OracleReport;
  /** Violations while the killed worker's requests died (--kill-during), apart from the rest. */
  readonly killWindowViolations: OracleReport['violations'] | null;
  readonly killedAtRows: number | null;
  readonly p99RatioDuringBefore: number | null;
  readonly expandLockMs: number | null;
  /** The contract step's write lock, as `almanac migrate contract` reports it. */
  readonly contractLockMs: number | null;
  readonly backfillLongestLockMs: number;
  readonly backfillBatches: number;
  readonly backfillMs: number;
  readonly failedRehearsals: string[];
  readonly rehearsal: { readonly passed: boolean; readonly estimatedBackfillMs: number; readonly longestLockMs: number; readonly copyMs: number };
  /** (real − estimated) / estimated, in percent. */
  readonly etaErrorPercent: number;
  readonly verification: BusyVerification;
  readonly missedTargets: string[];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function checked(result: { code: number | null; stdout: string; stderr: string }, what: string): string {
  if (result.code !== 0) throw new Error(`${what} failed (${result.code}): ${result.stderr}${result.stdout}`);
  return result.stdout;
}

function readProgress(file: string): BackfillProgress | undefined {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return readBackfill(db, busyBackfill.version);
  } finally {
    db.close();
  }
}

/** Every object's object_busy row recomputed from its stored body with the migration's own rule. */
export function verifyObjectBusy(dataDir: string): BusyVerification {
  const db = new Database(join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  const derive = busyBackfill.backfill?.derive;
  if (derive === undefined) throw new Error('0010 declares no backfill');
  const examples: string[] = [];
  let objects = 0;
  let missing = 0;
  let wrong = 0;
  try {
    // One read transaction: the server may still be writing.
    return db.transaction(() => {
      const busyRow = db.prepare('SELECT collection_id, busy, first_start, last_end FROM object_busy WHERE object_id = ?');
      for (const row of db.prepare('SELECT id, collection_id, component, body, first_start, last_end FROM objects').iterate() as Iterable<Record<string, unknown>>) {
        objects += 1;
        const expected = derive(row) ?? {};
        const actual = busyRow.get(row.id) as Record<string, unknown> | undefined;
        if (actual === undefined) {
          missing += 1;
          if (examples.length < 10) examples.push(`object ${String(row.id)} has no object_busy row`);
          continue;
        }
        const differs = Object.keys(expected).filter((k) => (expected[k] ?? null) !== (actual[k] ?? null));
        if (differs.length > 0) {
          wrong += 1;
          if (examples.length < 10) examples.push(`object ${String(row.id)} (${String(row.component)}): ${differs.map((k) => `${k} ${String(actual[k])} instead of ${String(expected[k])}`).join(', ')}`);
        }
      }
      const rows = (db.prepare('SELECT count(*) AS n FROM object_busy').get() as { n: number }).n;
      const orphans = (db.prepare('SELECT count(*) AS n FROM object_busy b WHERE NOT EXISTS (SELECT 1 FROM objects o WHERE o.id = b.object_id)').get() as { n: number }).n;
      return { objects, rows, missing, orphans, wrong, examples };
    })();
  } finally {
    db.close();
  }
}

function subtract(a: OracleReport['violations'], b: OracleReport['violations']): OracleReport['violations'] {
  return {
    failedResponses: a.failedResponses - b.failedResponses,
    refusedOrReset: a.refusedOrReset - b.refusedOrReset,
    emptyListings: a.emptyListings - b.emptyListings,
    shortListings: a.shortListings - b.shortListings,
    wrongAnswers: a.wrongAnswers - b.wrongAnswers,
    lostWrites: a.lostWrites - b.lostWrites,
  };
}

function generate(options: ProofOptions, log: (line: string) => void): Promise<{ manifest: Manifest; seconds: number }> {
  log(`generating ${options.users} users on the previous schema in ${options.dataDir}`);
  return generateDatabase({
    dataDir: options.dataDir,
    users: options.users,
    calendarsPerUser: options.calendarsPerUser,
    eventsPerCalendar: options.eventsPerCalendar,
    contactsPerUser: options.contactsPerUser,
    seed: options.seed,
    password: 'proof-secret',
    previousSchema: true,
    ...(options.jobs === undefined ? {} : { jobs: options.jobs }),
    log,
  });
}

/**
 * A database generated once (`bench/generate-db.ts --previous-schema`, 20–30 min at 1M objects) is
 * copied for each run instead, since every run migrates its copy.
 */
function copyTemplate(template: string, dataDir: string, log: (line: string) => void): { manifest: Manifest; seconds: number } {
  const started = performance.now();
  const source = new Database(join(template, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    const version = (source.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number }).v;
    if (version !== PREVIOUS_SCHEMA_VERSION) throw new Error(`${template} is on schema ${version}, not the previous release's ${PREVIOUS_SCHEMA_VERSION}: generate it with --previous-schema`);
  } finally {
    source.close();
  }
  log(`copying ${template} into ${dataDir}`);
  cpSync(template, dataDir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dataDir, MANIFEST_FILE), 'utf8')) as Manifest;
  return { manifest, seconds: (performance.now() - started) / 1000 };
}

export async function runMigrationProof(options: ProofOptions): Promise<ProofReport> {
  const log = options.log ?? (() => undefined);
  const file = join(options.dataDir, DATABASE_FILE);
  const store = ['--data', options.dataDir];
  const generated = options.template === undefined ? await generate(options, log) : copyTemplate(options.template, options.dataDir, log);
  log(`${generated.manifest.objects} objects in ${generated.seconds.toFixed(1)} s; starting the server (this release is not expected yet)`);
  // info: the expand's lock time is logged at info when the new worker opens the store. A fixed port:
  // a worker killed with -9 closes the shared socket, and its replacement binds the port again.
  const server = await startServerProcess([], { dataDir: options.dataDir, keepData: true, logLevel: 'info', port: await freePort() });
  const oracle = new LoadOracle({ url: server.url, manifest: generated.manifest, rate: options.rate, maxInFlight: 16, freshConnectionShare: 0.1 });
  let killWindowViolations: OracleReport['violations'] | null = null;
  let killedAtRows: number | null = null;
  let finished = false;
  try {
    // A freshly started server warms up (SQLite's page cache, V8's compiled code, the listing cache)
    // for its first seconds; 'before' is the steady state the 'during' p99 is compared with.
    oracle.setPhase('warm-up');
    oracle.start();
    await sleep(Math.min(15, options.phaseSeconds / 2) * 1000);
    oracle.setPhase('before');
    await sleep(options.phaseSeconds * 1000);

    // Its own phase: the copy and its synthetic load share the machine, and 'before' must be the
    // undisturbed baseline the 'during' p99 is compared with.
    oracle.setPhase('rehearse');
    log('rehearsing on an online copy of the live database');
    // On a shared machine one batch can be descheduled past the budget: up to three rehearsals, each
    // failed one reported (release expect needs a passing one).
    const failedRehearsals: string[] = [];
    let rehearsal: RehearsalReport | undefined;
    while (rehearsal === undefined) {
      const run = await runCli(['migrate', 'rehearse', '--json', ...store]);
      const parsed = JSON.parse(run.stdout || '{}') as Partial<RehearsalReport>;
      if (run.code === 0 && parsed.passed === true) rehearsal = parsed as RehearsalReport;
      else {
        failedRehearsals.push(parsed.failures?.join('; ') ?? run.stderr.trim());
        log(`rehearsal failed: ${failedRehearsals.at(-1) ?? ''}`);
        if (failedRehearsals.length >= 3) throw new Error(`three rehearsals failed: ${failedRehearsals.join(' | ')}`);
      }
    }
    const version = currentReleaseIdentity().version;
    checked(await runCli(['release', 'expect', version, '--approved-by', 'proof', '--reason', 'bench/migration-proof.ts', ...store]), 'release expect');

    log('restarting into the expected release: expand at open, then the background backfill');
    oracle.setPhase('during');
    checked(await runCli(['restart', ...store]), 'restart');
    const deadline = Date.now() + (options.backfillTimeoutSeconds ?? 3600) * 1000;
    let progress: BackfillProgress | undefined;
    let lastLog = Date.now();
    for (;;) {
      progress = readProgress(file);
      if (progress?.state === 'done') break;
      if (Date.now() > deadline) throw new Error(`the backfill did not finish within its bound: ${JSON.stringify(progress)}`);
      if (options.killAt !== undefined && killedAtRows === null && progress !== undefined && progress.rowsTotal > 0 && progress.rowsDone >= progress.rowsTotal * options.killAt) {
        const victim = server.servingPid();
        if (victim === undefined) throw new Error('no serving worker to kill');
        const before = oracle.snapshot().violations;
        killedAtRows = progress.rowsDone;
        log(`kill -9 of worker ${victim} at ${progress.rowsDone}/${progress.rowsTotal} rows`);
        oracle.setPhase('kill');
        process.kill(victim, 'SIGKILL');
        const replaced = Date.now() + 30_000;
        while ((server.servingPid() === victim || server.servingPid() === undefined) && Date.now() < replaced) await sleep(50);
        if (server.servingPid() === victim) {
          const errors = server.stderr().split('\n').filter((line) => /"level":(50|60)/u.test(line));
          throw new Error(`the supervisor did not replace the killed worker within 30 s:\n${errors.slice(-5).join('\n')}`);
        }
        await sleep(1000); // answers the dead worker owed have failed by now
        killWindowViolations = subtract(oracle.snapshot().violations, before);
        oracle.setPhase('during');
        log(`worker ${String(server.servingPid())} replaced it; its runner takes over the dead worker's claim (gone from this host) and resumes from the checkpoint`);
      }
      if (Date.now() - lastLog > 5000 && progress !== undefined) {
        lastLog = Date.now();
        log(`backfill ${progress.rowsDone}/${progress.rowsTotal} rows, ${Math.round(progress.rowsPerSecond ?? 0)} rows/s, longest lock ${progress.longestLockMs.toFixed(1)} ms`);
      }
      await sleep(options.killAt === undefined ? 250 : 10);
    }
    const status = JSON.parse(checked(await runCli(['migrate', 'status', '--json', ...store]), 'migrate status')) as { backfills: BackfillProgress[]; pending: unknown[] };
    const backfill = status.backfills.find((b) => b.version === busyBackfill.version) ?? progress;
    // The contract step (drop the compatibility triggers; the write path keeps object_busy itself
    // from now on), by its explicit command and under the same load.
    oracle.setPhase('contract');
    log(`backfill done: ${backfill.rowsDone} rows; migrate contract`);
    const contracted = checked(await runCli(['migrate', 'contract', ...store]), 'migrate contract');
    const contractLocks = [...contracted.matchAll(/write lock held ([\d.]+) ms/gu)].map((m) => Number(m[1]));
    const contractLockMs = contractLocks.length === 0 ? null : Math.max(...contractLocks);
    await sleep(Math.min(10, options.phaseSeconds) * 1000);
    log('phase after');
    oracle.setPhase('after');
    await sleep(options.phaseSeconds * 1000);
    const report = await oracle.finish();
    finished = true;
    const verification = verifyObjectBusy(options.dataDir);

    const expandLocks = [...server.stderr().matchAll(/"migration":"9-object-busy","phase":"expand","lockMs":([\d.]+)/gu)].map((m) => Number(m[1]));
    const expandLockMs = expandLocks.length === 0 ? null : Math.max(...expandLocks);
    const backfillSteps = rehearsal.steps.filter((s) => s.phase === 'backfill');
    const rehearsedBackfillMs = backfillSteps.reduce((sum, s) => sum + s.wallMs, 0);
    const estimatedBackfillMs = rehearsal.estimatedMs - (rehearsal.totalMs - rehearsedBackfillMs);
    const backfillMs = (backfill.finishedAt ?? Date.now()) - backfill.startedAt;
    const etaErrorPercent = estimatedBackfillMs > 0 ? ((backfillMs - estimatedBackfillMs) / estimatedBackfillMs) * 100 : Number.NaN;
    const before = report.phases.before?.p99Ms ?? 0;
    const during = report.phases.during?.p99Ms ?? 0;
    const p99RatioDuringBefore = before > 0 ? during / before : null;
    const kill = killWindowViolations ?? { failedResponses: 0, refusedOrReset: 0, emptyListings: 0, shortListings: 0, wrongAnswers: 0, lostWrites: 0 };
    const outside = subtract(report.violations, kill);

    const missed: string[] = [];
    if (outside.failedResponses + outside.refusedOrReset > 0) missed.push(`${outside.failedResponses} failed, ${outside.refusedOrReset} refused/reset responses (target 0)`);
    if (outside.emptyListings + outside.shortListings > 0) missed.push(`${outside.emptyListings} empty, ${outside.shortListings} short listings (target 0)`);
    if (outside.wrongAnswers > 0) missed.push(`${outside.wrongAnswers} wrong answers (target 0)`);
    if (report.violations.lostWrites > 0) missed.push(`${report.violations.lostWrites} lost writes (target 0)`);
    if (kill.emptyListings + kill.shortListings + kill.wrongAnswers + kill.lostWrites > 0) missed.push(`wrong, short or empty answers around the kill: ${JSON.stringify(kill)}`);
    if (p99RatioDuringBefore === null || p99RatioDuringBefore > 2) missed.push(`p99 during/before ${p99RatioDuringBefore?.toFixed(2) ?? 'unknown'} (target ≤ 2)`);
    if (expandLockMs === null || expandLockMs > 100) missed.push(`expand lock ${expandLockMs ?? 'not logged'} ms (target ≤ 100)`);
    if (contractLockMs === null || contractLockMs > 100) missed.push(`contract lock ${contractLockMs ?? 'not reported'} ms (target ≤ 100)`);
    if (backfill.longestLockMs > 100) missed.push(`backfill batch lock ${backfill.longestLockMs.toFixed(1)} ms (target ≤ 100)`);
    // A kill adds the stale-claim wait to the real duration; the ETA target is for an undisturbed run.
    if (killedAtRows === null && !(Math.abs(etaErrorPercent) <= 25)) missed.push(`rehearsal ETA off by ${etaErrorPercent.toFixed(0)} % (target ±25 %)`);
    if (verification.missing + verification.orphans + verification.wrong > 0) missed.push(`object_busy: ${verification.missing} missing, ${verification.orphans} orphans, ${verification.wrong} wrong`);
    if (failedRehearsals.length > 0) missed.push(`${failedRehearsals.length} rehearsal(s) failed before one passed: ${failedRehearsals.join(' | ')}`);

    return {
      objects: generated.manifest.objects,
      generateSeconds: generated.seconds,
      oracle: report,
      killWindowViolations,
      killedAtRows,
      p99RatioDuringBefore,
      expandLockMs,
      contractLockMs,
      backfillLongestLockMs: backfill.longestLockMs,
      backfillBatches: backfill.batches,
      backfillMs,
      failedRehearsals,
      rehearsal: { passed: rehearsal.passed, estimatedBackfillMs, longestLockMs: rehearsal.longestLockMs, copyMs: rehearsal.copyMs },
      etaErrorPercent,
      verification,
      missedTargets: missed,
    };
  } finally {
    if (!finished) await oracle.finish().catch(() => undefined);
    await server.stop();
  }
}

/** The report as a few readable lines (the JSON goes to stdout as well). */
export function formatProof(r: ProofReport): string {
  const v = r.oracle.violations;
  const phase = (name: string): string => {
    const p = r.oracle.phases[name];
    return p === undefined ? `${name}: no requests` : `${name}: ${p.requests} requests, 503 share ${(p.share503 * 100).toFixed(2)} %, p50 ${p.p50Ms} ms, p99 ${p.p99Ms} ms, max ${p.maxMs} ms`;
  };
  return [
    `objects ${r.objects} (generated in ${r.generateSeconds.toFixed(0)} s)`,
    `oracle: ${r.oracle.requests} requests, ${r.oracle.acknowledgedWrites} acknowledged writes; failed ${v.failedResponses}, refused/reset ${v.refusedOrReset}, empty ${v.emptyListings}, short ${v.shortListings}, wrong ${v.wrongAnswers}, lost ${v.lostWrites}`,
    ...['warm-up', 'before', 'rehearse', 'during', 'kill', 'contract', 'after'].filter((n) => r.oracle.phases[n] !== undefined).map((n) => `  ${phase(n)}`),
    `p99 during/before: ${r.p99RatioDuringBefore?.toFixed(2) ?? 'unknown'}`,
    `longest lock: expand ${r.expandLockMs?.toFixed(2) ?? 'not logged'} ms, contract ${r.contractLockMs?.toFixed(2) ?? 'not reported'} ms, backfill batches ${r.backfillLongestLockMs.toFixed(2)} ms (${r.backfillBatches} batches)`,
    ...r.failedRehearsals.map((f) => `failed rehearsal: ${f}`),
    `backfill ${(r.backfillMs / 1000).toFixed(1)} s; rehearsal estimated ${(r.rehearsal.estimatedBackfillMs / 1000).toFixed(1)} s (${r.etaErrorPercent >= 0 ? '+' : ''}${r.etaErrorPercent.toFixed(0)} %)`,
    ...(r.killedAtRows === null ? [] : [`kill -9 at ${r.killedAtRows} rows; violations in the kill window: ${JSON.stringify(r.killWindowViolations)}`]),
    `object_busy: ${r.verification.rows} rows for ${r.verification.objects} objects; ${r.verification.missing} missing, ${r.verification.orphans} orphans, ${r.verification.wrong} wrong`,
    ...r.verification.examples.map((e) => `  ${e}`),
    r.missedTargets.length === 0 ? 'ALL TARGETS MET' : `MISSED: ${r.missedTargets.join('; ')}`,
  ].join('\n');
}

const USAGE = `usage: node bench/migration-proof.ts [--users 40] [--calendars 2] [--events 200] [--contacts 100] [--seed 42] [--jobs 1]
       [--rate 50] [--phase-seconds 20] [--kill-during 0.4] [--data DIR] [--keep] [--template DIR]
  --template DIR: copy a folder made by bench/generate-db.ts --previous-schema instead of generating.
  objects = users × (calendars × events + contacts): --users 40 gives ~20,000, --users 200 ~100,000,
  --users 2000 ~1,000,000. --kill-during SHARE kill -9s the serving worker once the backfill has done
  that share of its rows. Exit code 1 when a target is missed.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      users: { type: 'string', default: '40' },
      calendars: { type: 'string', default: '2' },
      events: { type: 'string', default: '200' },
      contacts: { type: 'string', default: '100' },
      seed: { type: 'string', default: '42' },
      jobs: { type: 'string', default: '1' },
      rate: { type: 'string', default: '50' },
      'phase-seconds': { type: 'string', default: '20' },
      'kill-during': { type: 'string' },
      data: { type: 'string' },
      template: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stderr.write(`${USAGE}\n`);
    return 0;
  }
  const dataDir = values.data ?? mkdtempSync(join(tmpdir(), 'almanac-proof-'));
  try {
    const report = await runMigrationProof({
      dataDir,
      users: Number(values.users),
      calendarsPerUser: Number(values.calendars),
      eventsPerCalendar: Number(values.events),
      contactsPerUser: Number(values.contacts),
      seed: Number(values.seed),
      jobs: Number(values.jobs),
      rate: Number(values.rate),
      phaseSeconds: Number(values['phase-seconds']),
      ...(values['kill-during'] === undefined ? {} : { killAt: Number(values['kill-during']) }),
      ...(values.template === undefined ? {} : { template: values.template }),
      log: (line) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`),
    });
    const { oracle, ...rest } = report;
    process.stdout.write(`${JSON.stringify({ ...rest, oracle: { requests: oracle.requests, violations: oracle.violations, acknowledgedWrites: oracle.acknowledgedWrites, keepAliveRetries: oracle.keepAliveRetries, skipped: oracle.skipped, phases: oracle.phases, examples: oracle.examples } })}\n`);
    process.stderr.write(`${formatProof(report)}\n`);
    return report.missedTargets.length === 0 ? 0 : 1;
  } finally {
    if (!values.keep) rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  void main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`migration-proof failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
