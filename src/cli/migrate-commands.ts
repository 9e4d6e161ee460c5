// `almanac migrate …`: the schema migration commands: `lint` checks this release's migrations — the
// SQLite set and the PostgreSQL set, one release ships both — against the rules of their phase (opens
// no store); `status`, `pause` and `resume` read and flag the backfills in the database
// (./migrate-progress.ts); `rehearse` and `contract` in their own files.
import type { Command } from 'commander';
import { lintMigrations } from '../release/migration-lint.ts';
import { lintPostgresMigrations } from '../release/postgres-migration-lint.ts';
import type { PostgresMigration } from '../store/postgres/migrator.ts';
import { POSTGRES_MIGRATIONS } from '../store/postgres/migrations/index.ts';
import type { SqliteMigration } from '../store/sqlite/migrator.ts';
import { SQLITE_MIGRATIONS } from '../store/sqlite/migrations/index.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import { json } from './format.ts';
import type { CliIo } from './io.ts';
import { migrateContract } from './migrate-contract.ts';
import { migratePause, migrateStatus } from './migrate-progress.ts';
import { migrateRehearse, type RehearseOptions } from './migrate-rehearse.ts';
import { addStoreOptions, type Run } from './run.ts';
import type { StoreOptions } from './store.ts';

/** One finding of either lint, with the store whose migration it is about. */
interface StoreFinding {
  readonly store: 'sqlite' | 'postgres';
  readonly version: number;
  readonly name: string;
  readonly line?: number;
  readonly rule: string;
  readonly severity: 'error' | 'warning';
  readonly statement: string;
  readonly message: string;
}

/** The migration's file name without extension, e.g. 0002-object-time-index. */
function migrationFile(finding: Pick<StoreFinding, 'version' | 'name'>): string {
  return `${String(finding.version).padStart(4, '0')}-${finding.name}`;
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

export interface LintSets {
  readonly sqlite?: readonly SqliteMigration[];
  readonly postgres?: readonly PostgresMigration[];
}

/** Prints the findings of both sets; exit 0 when none is an error, otherwise throws a CliError with exit 2. */
export function migrateLint(options: { readonly json?: boolean }, io: CliIo, sets: LintSets = {}): number {
  const sqlite = sets.sqlite ?? SQLITE_MIGRATIONS;
  const postgres = sets.postgres ?? POSTGRES_MIGRATIONS;
  const findings: StoreFinding[] = [
    ...lintMigrations(sqlite).map((finding) => ({ store: 'sqlite' as const, ...finding })),
    ...lintPostgresMigrations(postgres).map((finding) => ({ store: 'postgres' as const, ...finding })),
  ];
  const errors = findings.filter((finding) => finding.severity === 'error').length;
  const warnings = findings.length - errors;
  if (options.json === true) {
    io.stdout(json(findings.map((finding) => ({ file: `${finding.store}/${migrationFile(finding)}`, ...finding }))));
  } else {
    for (const finding of findings) {
      const where = `${finding.store} ${migrationFile(finding)}${finding.line === undefined ? '' : `:${finding.line}`}`;
      io.stdout(`${where}  ${finding.severity}  ${finding.rule}\n  ${finding.statement}\n  ${finding.message}\n\n`);
    }
    io.stderr(
      `${plural(sqlite.length, 'SQLite migration')} and ${plural(postgres.length, 'PostgreSQL migration')} linted: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}\n`,
    );
  }
  if (errors > 0) {
    throw new CliError(ExitCode.usage, `${plural(errors, 'migration statement')} unsafe in ${errors === 1 ? 'its' : 'their'} phase; fix ${errors === 1 ? 'it' : 'them'} before releasing`);
  }
  return ExitCode.ok;
}

export function registerMigrateCommands(program: Command, io: CliIo, run: Run): void {
  const migrate = program.command('migrate').description('inspect schema migrations');

  migrate
    .command('lint')
    .description("check this release's SQLite and PostgreSQL migrations for statements unsafe in their phase (exit 2 on errors)")
    .option('--json', 'print the findings as a JSON array')
    .action((options: { json?: boolean }) => run(() => Promise.resolve(migrateLint(options, io))));

  addStoreOptions(migrate.command('status').description('applied and pending migrations, and each backfill’s progress, rate and ETA').option('--json', 'print JSON')).action(
    (options: StoreOptions & { json?: boolean }) => run(() => migrateStatus(options, io)),
  );
  addStoreOptions(migrate.command('pause').description('hold the running backfill before its next batch (any process may resume it)')).action((options: StoreOptions) =>
    run(() => migratePause(options, io, true)),
  );
  addStoreOptions(
    migrate
      .command('rehearse')
      .description('run every pending phase on an online copy under synthetic load, time each step, store the report (exit 1 if a step is over budget)')
      .option('--load-rate <n>', 'synthetic requests per second against the copy (default 200; 0 = none)')
      .option('--lock-budget <ms>', 'longest write lock a step may hold (default 100)')
      .option('--work-dir <dir>', 'where the copy is made (default: a temporary folder; needs the database’s size free)')
      .option('--json', 'print the report as JSON'),
  ).action((options: RehearseOptions) => run(() => migrateRehearse(options, io)));
  addStoreOptions(
    migrate.command('contract').description('run the pending contract (destructive) migrations, once no live node needs the old shape and after their rehearsal'),
  ).action((options: StoreOptions) => run(() => migrateContract(options, io)));
  addStoreOptions(migrate.command('resume').description('let a paused backfill continue')).action((options: StoreOptions) =>
    run(() => migratePause(options, io, false)),
  );
}
