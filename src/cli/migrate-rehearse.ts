// `almanac migrate rehearse`: rehearses this release's pending migrations on an online copy of the
// live database (src/release/rehearsal.ts), prints the report, and stores it in the live database
// tied to the migration set's hash and the data size — what `almanac release expect` requires.
import { currentReleaseIdentity } from '../release/identity.ts';
import { rehearsePostgres } from '../release/postgres-rehearsal.ts';
import { rehearse, type RehearsalReport, type RehearsalStep } from '../release/rehearsal.ts';
import { isPostgresUrl } from '../store/open.ts';
import { POSTGRES_MIGRATIONS } from '../store/postgres/migrations/index.ts';
import { recordRehearsal as recordPostgresRehearsal } from '../store/postgres/rehearsals.ts';
import type { SqliteMigration } from '../store/sqlite/migrator.ts';
import { SQLITE_MIGRATIONS } from '../store/sqlite/migrations/index.ts';
import { recordRehearsal } from '../store/sqlite/rehearsals.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import { json } from './format.ts';
import type { CliIo } from './io.ts';
import { duration, openDatabaseFile, withPostgresClient } from './migrate-progress.ts';
import { storeConfig, type StoreOptions } from './store.ts';

export interface RehearseOptions extends StoreOptions {
  readonly json?: boolean;
  readonly loadRate?: string;
  readonly lockBudget?: string;
  readonly workDir?: string;
}

function positive(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new CliError(ExitCode.usage, `${name} must be a number ≥ 0`);
  return value;
}

function stepLine(step: RehearsalStep): string {
  const name = `${String(step.version).padStart(4, '0')}-${step.name}`.padEnd(32);
  const locks = step.batchLockMs === undefined ? '' : ` (batch lock p50 ${step.batchLockMs.p50.toFixed(1)} ms, p99 ${step.batchLockMs.p99.toFixed(1)} ms)`;
  const rows = step.rows === undefined ? '' : `  ${step.rows.toLocaleString('en')} rows in ${step.batches ?? 0} batches${locks}, ${Math.round(step.rowsPerSecond ?? 0).toLocaleString('en')} rows/s`;
  return `  ${name} ${step.phase.padEnd(8)} ${step.wallMs.toFixed(1).padStart(9)} ms  longest lock ${step.longestLockMs.toFixed(1).padStart(7)} ms${rows}${step.overBudget ? '  OVER BUDGET' : ''}`;
}

export function formatReport(report: RehearsalReport): string {
  const lines = [
    `rehearsal of almanac ${report.version} (migrations ${report.migrationHash.slice(0, 12)}) on ${(report.dataBytes / 1e6).toFixed(1)} MB, ${report.objectRows.toLocaleString('en')} objects`,
    `  online copy: ${report.copyMs.toFixed(0)} ms`,
  ];
  if (report.steps.length === 0) lines.push('  nothing is pending: this release changes no schema here');
  for (const step of report.steps) {
    lines.push(stepLine(step));
    for (const statement of step.statements ?? []) lines.push(`      ${statement.ms.toFixed(2).padStart(8)} ms  ${statement.sql}`);
  }
  lines.push(
    `  synthetic load: ${report.load.requests} requests (${report.load.writes} writes), ${report.load.errors} errors, p50 ${report.load.p50Ms.toFixed(1)} ms, p99 ${report.load.p99Ms.toFixed(1)} ms, max ${report.load.maxMs.toFixed(1)} ms`,
    `  longest lock: ${report.longestLockMs.toFixed(1)} ms (budget ${report.lockBudgetMs} ms)`,
    `  duration: ${duration(report.totalMs / 1000)} on the copy; expected on the live database: ${duration(report.estimatedMs / 1000)}`,
    report.passed ? 'PASSED' : 'FAILED',
  );
  for (const failure of report.failures) lines.push(`  ${failure}`);
  return `${lines.join('\n')}\n`;
}

function recordOf(report: RehearsalReport) {
  return {
    migrationHash: report.migrationHash,
    version: report.version,
    passed: report.passed,
    dataBytes: report.dataBytes,
    objectRows: report.objectRows,
    longestLockMs: report.longestLockMs,
    estimatedMs: report.estimatedMs,
    report: JSON.stringify(report),
    createdAt: report.createdAt,
  };
}

/** On PostgreSQL: a scratch database in the same cluster (the user needs CREATEDB), dropped afterwards. */
async function rehearseOnPostgres(url: string, options: RehearseOptions, io: CliIo): Promise<RehearsalReport> {
  const identity = currentReleaseIdentity();
  const report = await rehearsePostgres({
    url,
    migrations: POSTGRES_MIGRATIONS,
    migrationHash: identity.migrationHash,
    version: identity.version,
    loadRate: positive(options.loadRate, '--load-rate', 50),
    lockBudgetMs: positive(options.lockBudget, '--lock-budget', 100),
    onStep: (step) => {
      if (options.json !== true) io.stderr(`${stepLine(step)}\n`);
    },
  });
  await withPostgresClient(url, (client) => recordPostgresRehearsal(client, recordOf(report)));
  return report;
}

export async function migrateRehearse(options: RehearseOptions, io: CliIo, migrations: readonly SqliteMigration[] = SQLITE_MIGRATIONS): Promise<number> {
  const database = storeConfig(options, io).database;
  const report = isPostgresUrl(database) ? await rehearseOnPostgres(database, options, io) : await rehearseOnSqlite(options, io, migrations);
  io.stdout(options.json === true ? json(report) : formatReport(report));
  if (!report.passed) throw new CliError(ExitCode.failure, `the rehearsal failed: ${report.failures.length} step(s) over the ${report.lockBudgetMs} ms lock budget`);
  return ExitCode.ok;
}

async function rehearseOnSqlite(options: RehearseOptions, io: CliIo, migrations: readonly SqliteMigration[]): Promise<RehearsalReport> {
  const identity = currentReleaseIdentity();
  const live = openDatabaseFile(options, io);
  let report: RehearsalReport;
  try {
    report = await rehearse({
      live,
      migrations,
      migrationHash: identity.migrationHash,
      version: identity.version,
      loadRate: positive(options.loadRate, '--load-rate', 200),
      lockBudgetMs: positive(options.lockBudget, '--lock-budget', 100),
      ...(options.workDir === undefined ? {} : { workDir: options.workDir }),
      onStep: (step) => {
        if (options.json !== true) io.stderr(`${stepLine(step)}\n`);
      },
    });
    live.transaction(() => recordRehearsal(live, recordOf(report))).immediate();
  } finally {
    live.close();
  }
  return report;
}
