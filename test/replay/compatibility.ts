// Runs client lifecycles against a real server process and renders the client × step matrix of
// docs/compatibility.md; shared by the replay test (which never writes docs/) and publish.ts.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServerProcess, type ServerProcess } from '../support/server-process.ts';
import { davx5 } from './clients/davx5.ts';
import { evolution } from './clients/evolution.ts';
import { iosMacos } from './clients/ios-macos.ts';
import { thunderbird } from './clients/thunderbird.ts';
import { vdirsyncer } from './clients/vdirsyncer.ts';
import type { ClientLifecycle, Step } from './lifecycle.ts';
import { ClientSession } from './session.ts';

export const LIFECYCLES: readonly ClientLifecycle[] = [iosMacos, davx5, thunderbird, evolution, vdirsyncer];

export interface StepResult {
  readonly step: Step;
  readonly ok: boolean;
  /** First line of the failure, for the matrix. */
  readonly error: string | undefined;
  readonly ms: number;
}

export interface ClientRun {
  readonly lifecycle: ClientLifecycle;
  readonly results: readonly StepResult[];
}

export interface RunningClient {
  readonly server: ServerProcess;
  readonly session: ClientSession;
  stop(): Promise<void>;
}

/**
 * A fresh server process, the client's account added through the CLI while it runs (with the e-mail
 * address and display name a real account has), and a session holding what the user typed.
 */
/** Where a client's server runs: a PostgreSQL database, or SQLite in a folder prepared beforehand. */
export interface ServerSetup {
  readonly database?: string;
  /** Fills the SQLite data folder before the server starts (e.g. a migration in progress). */
  readonly prepare?: (dataDir: string) => Promise<void>;
}

export async function startClient(lifecycle: ClientLifecycle, setup: ServerSetup = {}): Promise<RunningClient> {
  let dataDir: string | undefined;
  if (setup.prepare !== undefined) {
    dataDir = mkdtempSync(join(tmpdir(), 'almanac-replay-'));
    await setup.prepare(dataDir);
  }
  const server = await startServerProcess([], { ...(setup.database === undefined ? {} : { database: setup.database }), ...(dataDir === undefined ? {} : { dataDir }) });
  const added = await runCli(
    ['user', 'add', lifecycle.user, '--email', `${lifecycle.user}@example.org`, '--display-name', lifecycle.displayName, '--password-stdin', ...server.storeArgs],
    `${lifecycle.password}\n`,
  );
  if (added.code !== 0) {
    await server.stop();
    throw new Error(`user add ${lifecycle.user} failed: ${added.stderr}`);
  }
  const session = new ClientSession(server.url, lifecycle.user, lifecycle.password, { ...lifecycle.initialContext });
  return {
    server,
    session,
    async stop() {
      session.close();
      await server.stop();
    },
  };
}

export async function runStep(step: Step, session: ClientSession, server: ServerProcess): Promise<StepResult> {
  const started = performance.now();
  try {
    await step.run(session, server);
    return { step, ok: true, error: undefined, ms: performance.now() - started };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { step, ok: false, error: message.split('\n')[0] ?? message, ms: performance.now() - started };
  }
}

/** Runs every step in order; a failed step does not stop the lifecycle (later ones report what they can). */
export async function runLifecycle(lifecycle: ClientLifecycle, setup: ServerSetup = {}): Promise<ClientRun> {
  const running = await startClient(lifecycle, setup);
  try {
    const results: StepResult[] = [];
    for (const step of lifecycle.steps) results.push(await runStep(step, running.session, running.server));
    return { lifecycle, results };
  } finally {
    await running.stop();
  }
}

/** Every lifecycle side by side, each on its own server made by `setup` (fresh SQLite when absent). */
export async function runAll(lifecycles: readonly ClientLifecycle[] = LIFECYCLES, setup: () => Promise<ServerSetup> = () => Promise.resolve({})): Promise<ClientRun[]> {
  return Promise.all(lifecycles.map(async (lifecycle) => runLifecycle(lifecycle, await setup())));
}

export interface StoreRuns {
  readonly sqlite: readonly ClientRun[];
  /** Undefined when PostgreSQL was not available to the run that wrote the page. */
  readonly postgres: readonly ClientRun[] | undefined;
  /** SQLite while the reference online migration is half done (its backfill paused). */
  readonly migrating: readonly ClientRun[];
}

function cell(text: string): string {
  return text.replace(/\|/gu, '\\|').replace(/\r?\n/gu, ' ');
}

function fileCell(step: Step): string {
  if (step.files.length === 0) return '(README-described request)';
  return [...new Set(step.files)].map((file) => `\`${file.slice(file.indexOf('/') + 1).replace(/\.http$/u, '')}\``).join(', ');
}

function verdictOf(run: ClientRun): string {
  const passed = run.results.filter((r) => r.ok).length;
  const gaps = run.results.filter((r) => !r.ok && r.step.gap !== undefined).length;
  const failing = run.results.length - passed - gaps;
  const verdict = failing > 0 ? `**${failing} failing**` : gaps > 0 ? `works; ${gaps} known gap${gaps > 1 ? 's' : ''}` : 'works';
  return `${passed} / ${run.results.length}: ${verdict}`;
}

function stepVerdict(result: StepResult | undefined): string {
  if (result === undefined) return 'not run';
  if (result.ok) return result.step.gap === undefined ? 'pass' : 'pass (gap closed: drop the marker)';
  return result.step.gap === undefined ? `**FAIL**: ${cell(result.error ?? '')}` : `known gap: ${cell(result.step.gap)}`;
}

export function renderCompatibility(stores: StoreRuns, date: Date): string {
  const runs = stores.sqlite;
  const postgresRun = (run: ClientRun): ClientRun | undefined => stores.postgres?.find((other) => other.lifecycle === run.lifecycle);
  const migratingRun = (run: ClientRun): ClientRun | undefined => stores.migrating.find((other) => other.lifecycle === run.lifecycle);
  const day = date.toISOString().slice(0, 10);
  const lines: string[] = [
    '# Client compatibility',
    '',
    `Generated on ${day} by \`npx node test/replay/publish.ts\`; do not edit by hand.`,
    '',
    'Each client’s lifecycle is replayed, in the client’s own order, against a real `almanac serve` process: on SQLite, on PostgreSQL, and on SQLite',
    'in the middle of an online migration (a database on the previous release’s schema, this release approved, so the server ran the expand',
    'step at start and the reference backfill is pending with its pause flag set: the state a client meets while a migration runs).',
    'the request files in `test/fixtures/client-traces/` (provenance in its README.md) are sent byte for byte, with',
    'placeholders such as `{calendar}`, `{etag}` and `{sync-token}` filled from the server’s earlier answers.',
    'Every step asserts what that client relies on. The same steps run in CI as `test/replay/replay.test.ts`.',
    'Request files are named without `.http` under `test/fixtures/client-traces/<client>/`; a step may also send a variant the',
    'fixtures README describes (a kept token inside `<sync-token>`, If-Match instead of If-None-Match, a one-href multiget),',
    'and "(README-described request)" marks a step made only of such requests. Realistic iCalendar/vCard bodies replace the',
    'illustrative (RECON) payloads where a step needs particular data, such as an event inside a query’s time-range.',
    'Steps in the "trouble" phase replay a client while another process keeps the store’s writers waiting (SQLite’s write lock;',
    'on PostgreSQL an EXCLUSIVE lock on the collections table), which is what a migration step or a backup looks like to the server.',
    'A "known gap" is a check of something Almanac does not offer yet and the client copes without; it does not fail CI.',
    '',
    '## Summary',
    '',
    '| Client | Traces represent | SQLite: steps passed | PostgreSQL: steps passed | SQLite mid-migration: steps passed |',
    '|---|---|---|---|---|',
  ];
  for (const run of runs) {
    const onPostgres = postgresRun(run);
    const migrating = migratingRun(run);
    lines.push(`| ${cell(run.lifecycle.name)} | ${cell(run.lifecycle.represents)} | ${verdictOf(run)} | ${onPostgres === undefined ? 'not run (PostgreSQL unavailable)' : verdictOf(onPostgres)} | ${migrating === undefined ? 'not run' : verdictOf(migrating)} |`);
  }
  for (const run of runs) {
    const onPostgres = postgresRun(run);
    const migrating = migratingRun(run);
    lines.push('', `## ${run.lifecycle.name}`, '', '| # | Phase | Step | Request files | Checks | SQLite | PostgreSQL | Mid-migration |', '|---|---|---|---|---|---|---|---|');
    run.results.forEach((result, index) => {
      lines.push(`| ${index + 1} | ${result.step.phase} | ${cell(result.step.title)} | ${fileCell(result.step)} | ${cell(result.step.checks)} | ${stepVerdict(result)} | ${stepVerdict(onPostgres?.results[index])} | ${stepVerdict(migrating?.results[index])} |`);
    });
    if (run.lifecycle.quirks.length > 0) {
      lines.push('', 'Known quirks Almanac accommodates:', '');
      for (const quirk of run.lifecycle.quirks) lines.push(`- ${quirk.quirk}. ${quirk.accommodation}`);
    }
  }
  lines.push('', '## Not covered yet', '');
  for (const item of NOT_COVERED) lines.push(`- ${item}`);
  lines.push('');
  return lines.join('\n');
}

/** What the replay cannot check today, and why: kept next to the matrix so its absence is visible. */
const NOT_COVERED: readonly string[] = [
  '**A backfill moving while the client runs.** The mid-migration column holds the backfill paused, so every answer comes from the half-migrated schema; batches landing between a client’s requests are covered by the load oracle run during the reference migration (`bench/`), not by this page. Almanac has no maintenance mode by design: it serves throughout a migration.',
  '**Scheduling (RFC 6638).** No Schedule-Tag, schedule-inbox-URL or schedule-outbox-URL; iOS `If-Schedule-Tag-Match` (15) is only checked to be harmless. Thunderbird scheduling (POST to the outbox) and free-busy are not in the traces.',
  '**Principal search.** `principal-search-property-set` (iOS setup step 4) and `principal-property-search` (a Thunderbird fallback) are not in the traces; the principal currently advertises an empty supported-report-set.',
  '**WebDAV-Push.** DAVx⁵ asks `transports`/`topic`; they are answered 404, so DAVx⁵ polls.',
  '**Apple address book multiget and vCard PUT.** No public trace exists (see the fixtures README).',
];
