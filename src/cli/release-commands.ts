// `almanac release expect` records that a release may run against this database (with its migration
// set's hash, a time window and who approved it); `almanac release status` shows what the database
// expects, what last ran, and the schema — with a banner when this binary is not expected.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { currentReleaseIdentity } from '../release/identity.ts';
import { isPostgresUrl } from '../store/open.ts';
import { isReleaseStore } from '../store/release-store.ts';
import { listBackfills, type BackfillProgress } from '../store/sqlite/backfill.ts';
import { latestRehearsal, rehearsalProblem } from '../store/sqlite/rehearsals.ts';
import { currentRelease } from '../store/sqlite/release-state.ts';
import { DATABASE_FILE } from '../store/sqlite/sqlite-store.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import { isoTime, json } from './format.ts';
import type { CliIo } from './io.ts';
import { addStoreOptions, type Run } from './run.ts';
import { backfillLine, openDatabaseFile, readMigrationStatus, withPostgresClient } from './migrate-progress.ts';
import { readAppliedMigrations as readPostgresApplied } from '../store/postgres/migrator.ts';
import { latestRehearsal as latestPostgresRehearsal, rehearsalProblem as postgresRehearsalProblem } from '../store/postgres/rehearsals.ts';
import { currentRelease as currentPostgresRelease } from '../store/postgres/release-state.ts';
import { storeConfig, withStore, type StoreOptions } from './store.ts';

interface ExpectOptions extends StoreOptions {
  readonly approvedBy: string;
  readonly reason?: string;
  readonly window?: string;
  readonly migrationHash?: string;
}

function parseWindow(window: string | undefined): { from: number | null; until: number | null } {
  if (window === undefined) return { from: null, until: null };
  const [from, until, extra] = window.split('/');
  const parse = (text: string | undefined): number | null => {
    if (text === undefined || text === '') return null;
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) throw new CliError(ExitCode.usage, `--window: "${text}" is not a date-time (use ISO 8601, e.g. 2026-12-01T22:00Z)`);
    return ms;
  };
  if (extra !== undefined) throw new CliError(ExitCode.usage, '--window takes FROM/UNTIL');
  const range = { from: parse(from), until: parse(until) };
  if (range.from !== null && range.until !== null && range.until <= range.from) throw new CliError(ExitCode.usage, '--window: UNTIL must be after FROM');
  return range;
}

/**
 * DESIGN.md §6: a release that changes the schema is expected only with a passing, fresh rehearsal
 * of its migration set on this database. An empty data folder (first start creates the schema) and
 * a release with the migrations already in place need none.
 */
async function requireRehearsal(options: StoreOptions, io: CliIo, version: string, migrationHash: string): Promise<void> {
  const config = storeConfig(options, io);
  if (isPostgresUrl(config.database)) {
    const problem = await withPostgresClient(config.database, async (client) => {
      if ((await readPostgresApplied(client)).length === 0) return undefined; // empty: the first start creates the schema
      if ((await currentPostgresRelease(client))?.migrationHash === migrationHash) return undefined;
      return postgresRehearsalProblem(client, migrationHash, Date.now());
    });
    if (problem !== undefined) throw new CliError(ExitCode.failure, `release ${version} is not expected: ${problem}`);
    return;
  }
  if (!existsSync(join(config.data, DATABASE_FILE))) return;
  const db = openDatabaseFile(options, io);
  try {
    if (currentRelease(db)?.migrationHash === migrationHash) return;
    const problem = rehearsalProblem(db, migrationHash, Date.now());
    if (problem !== undefined) throw new CliError(ExitCode.failure, `release ${version} is not expected: ${problem}`);
  } finally {
    db.close();
  }
}

export async function releaseExpect(version: string, options: ExpectOptions, io: CliIo): Promise<number> {
  const own = currentReleaseIdentity();
  if (version !== own.version && options.migrationHash === undefined) {
    throw new CliError(ExitCode.usage, `this is almanac ${own.version}; to approve ${version}, run its own \`almanac release expect\` or pass --migration-hash`);
  }
  if (options.approvedBy.trim() === '') throw new CliError(ExitCode.usage, '--approved-by needs a name');
  const window = parseWindow(options.window);
  const migrationHash = options.migrationHash ?? own.migrationHash;
  await requireRehearsal(options, io, version, migrationHash);
  await withStore(options, io, async (store) => {
    if (!isReleaseStore(store)) throw new CliError(ExitCode.usage, 'this store keeps no release records');
    const expectation = { version, migrationHash, windowFrom: window.from, windowUntil: window.until, approvedBy: options.approvedBy.trim(), reason: options.reason ?? null, createdAt: Date.now() };
    // Run beside a serving node under write load, the store's short busy wait can lose to a request's
    // transaction: try again for a few seconds rather than fail the operator's command.
    const deadline = Date.now() + 10_000;
    for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
      try {
        await store.expectRelease(expectation);
        break;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if ((code !== 'SQLITE_BUSY' && code !== 'SQLITE_LOCKED') || Date.now() + delay > deadline) throw error;
        await sleep(delay);
      }
    }
  });
  io.stdout(`release ${version} (migrations ${migrationHash.slice(0, 12)}) is now expected${options.window === undefined ? '' : ` during ${options.window}`}\n`);
  return ExitCode.ok;
}

export async function releaseStatus(options: StoreOptions & { readonly json?: boolean }, io: CliIo): Promise<number> {
  const own = currentReleaseIdentity();
  const status = await withStore(options, io, async (store) => {
    if (!isReleaseStore(store)) throw new CliError(ExitCode.usage, 'this store keeps no release records');
    // A node beats every 15 s; a minute of silence means it is gone.
    return { ...(await store.releaseRecords()), guard: store.releaseGuard(), nodes: await store.liveNodes(Date.now() - 60_000) };
  });
  let rehearsal;
  let backfills: BackfillProgress[];
  let rehearsalIssue;
  const database = storeConfig(options, io).database;
  if (isPostgresUrl(database)) {
    backfills = (await readMigrationStatus(options, io)).backfills;
    [rehearsal, rehearsalIssue] = await withPostgresClient(database, async (client) => [
      await latestPostgresRehearsal(client, own.migrationHash),
      await postgresRehearsalProblem(client, own.migrationHash, Date.now()),
    ] as const);
  } else {
    const db = openDatabaseFile(options, io);
    try {
      rehearsal = latestRehearsal(db, own.migrationHash);
      rehearsalIssue = rehearsalProblem(db, own.migrationHash, Date.now());
      backfills = listBackfills(db);
    } finally {
      db.close();
    }
  }
  const rehearsalSummary =
    rehearsal === undefined
      ? undefined
      : { passed: rehearsal.passed, createdAt: rehearsal.createdAt, dataBytes: rehearsal.dataBytes, objectRows: rehearsal.objectRows, longestLockMs: rehearsal.longestLockMs, estimatedMs: rehearsal.estimatedMs };
  if (options.json === true) {
    io.stdout(json({ binary: own, ...status, rehearsal: rehearsalSummary ?? null, rehearsalProblem: rehearsalIssue ?? null, backfills }));
    return ExitCode.ok;
  }
  const lines: string[] = [];
  if (status.guard.unexpected !== undefined) {
    lines.push('!!! UNEXPECTED RELEASE !!!', `!!! ${status.guard.unexpected}; no schema change was made.`, `!!! approve it with: almanac release expect ${own.version} --approved-by NAME`, '');
  }
  lines.push(`this binary:      almanac ${own.version} (migrations ${own.migrationHash.slice(0, 12)})`);
  lines.push(`database release: ${status.current === undefined ? 'unknown' : `${status.current.version} (migrations ${status.current.migrationHash.slice(0, 12)})`}`);
  lines.push(`schema:           migrations ${status.applied.join(', ') || 'none'} applied; pending: ${status.pending.join(', ') || 'none'}`);
  lines.push(
    `rehearsal:        ${
      rehearsal === undefined
        ? 'none for this binary’s migrations'
        : `${rehearsal.passed ? 'passed' : 'FAILED'} at ${isoTime(rehearsal.createdAt)} on ${rehearsal.objectRows} objects: longest lock ${rehearsal.longestLockMs.toFixed(1)} ms, about ${Math.round(rehearsal.estimatedMs / 1000)} s`
    }${rehearsalIssue === undefined || rehearsal === undefined ? '' : ` (${rehearsalIssue})`}`,
  );
  lines.push('migrations in progress:');
  const open = backfills.filter((b) => b.state !== 'done');
  if (open.length === 0) lines.push('  (none)');
  for (const b of open) lines.push(...backfillLine(b, io.isTTY).trimEnd().split('\n').map((l) => `  ${l}`));
  lines.push('live nodes:');
  if (status.nodes.length === 0) lines.push('  (none)');
  for (const n of status.nodes) {
    const known = n.knownMigration === null || n.knownMigration === undefined ? '' : `, knows migration ${n.knownMigration}`;
    lines.push(`  ${n.host} pid ${n.pid}: almanac ${n.version} (migrations ${n.migrationHash.slice(0, 12)}${known}), up since ${isoTime(n.startedAt)}`);
  }
  lines.push('expected releases:');
  if (status.expectations.length === 0) lines.push('  (none)');
  for (const e of status.expectations) {
    const window = e.windowFrom === null && e.windowUntil === null ? 'any time' : `${e.windowFrom === null ? '…' : isoTime(e.windowFrom)} – ${e.windowUntil === null ? '…' : isoTime(e.windowUntil)}`;
    lines.push(`  ${e.version} (migrations ${e.migrationHash.slice(0, 12)}), ${window}, approved by ${e.approvedBy} at ${isoTime(e.createdAt)}${e.reason === null ? '' : `: ${e.reason}`}`);
  }
  io.stdout(`${lines.join('\n')}\n`);
  return ExitCode.ok;
}

export function registerReleaseCommands(program: Command, io: CliIo, run: Run): void {
  const release = program.command('release').description('expected releases: approve a release, see what runs');
  addStoreOptions(
    release
      .command('expect')
      .description('record that VERSION (with its migration set) may run and change the schema')
      .argument('<version>', 'the release version, e.g. 0.2.0')
      .requiredOption('--approved-by <name>', 'who approves it')
      .option('--window <from/until>', 'when it may start, ISO 8601 date-times, either side may be empty')
      .option('--reason <text>', 'why (kept with the record)')
      .option('--migration-hash <hash>', 'the migration set hash, when approving another binary’s release'),
  ).action((version: string, options: ExpectOptions) => run(() => releaseExpect(version, options, io)));
  addStoreOptions(release.command('status').description('what runs, what is expected, and the schema').option('--json', 'print JSON')).action(
    (options: StoreOptions & { json?: boolean }) => run(() => releaseStatus(options, io)),
  );
}
