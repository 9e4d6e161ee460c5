// `almanac restart`: asks the supervisor of the server on a data folder (its pid file and status
// file, supervisor-status.ts) for a restart without downtime, waits for the outcome and reports it.
// Sends SIGHUP; never stops anything itself. Must not import the store, HTTP or DAV layers.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { processAlive, serverUsing } from '../store/sqlite/data-dir.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import type { CliIo } from './io.ts';
import { addStoreOptions, type Run } from './run.ts';
import { storeConfig, type StoreOptions } from './store.ts';
import { readStatus } from './supervisor-status.ts';

interface RestartOptions extends StoreOptions {
  readonly timeoutSeconds?: string;
}

const POLL_MS = 100;


export async function restart(options: RestartOptions, io: CliIo): Promise<number> {
  const config = storeConfig(options, io);
  const timeoutSeconds = Number(options.timeoutSeconds ?? '300');
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new CliError(ExitCode.usage, '--timeout-seconds must be a positive number');
  const before = readStatus(config.data);
  // SQLite: the pid file names the server. PostgreSQL claims no folder; its supervisor's status file
  // in --data names it (give each node on one machine its own --data).
  const pid = serverUsing(config.data) ?? (before !== undefined && processAlive(before.pid) ? before.pid : undefined);
  if (pid === undefined) throw new CliError(ExitCode.failure, `no Almanac server is running on ${config.data}`);
  if (before?.pid !== pid) {
    throw new CliError(ExitCode.failure, `the server on ${config.data} (pid ${pid}) runs without a supervisor (--single-process), so it cannot restart without downtime`);
  }
  process.kill(pid, 'SIGHUP');
  io.stderr(`almanac: asked the supervisor (pid ${pid}) for a restart; waiting for the new worker to be ready\n`);
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (Date.now() < deadline) {
    await sleep(POLL_MS);
    const now = readStatus(config.data);
    if (now === undefined || now.pid !== pid) throw new CliError(ExitCode.failure, 'the supervisor stopped during the restart');
    const outcome = now.restart;
    if (outcome.attempt <= before.restart.attempt || outcome.state === 'running') continue;
    if (outcome.state === 'failed') throw new CliError(ExitCode.failure, `restart failed: ${outcome.message}`);
    io.stdout(`restarted: ${outcome.message}\n`);
    return ExitCode.ok;
  }
  throw new CliError(ExitCode.failure, `no outcome within ${timeoutSeconds} s; the running worker keeps serving until a new one is ready (see the server's log)`);
}

export function registerRestart(program: Command, io: CliIo, run: Run): void {
  addStoreOptions(
    program
      .command('restart')
      .description('replace the running server process without refusing a connection (Linux, macOS; see docs/operations.md)')
      .option('--timeout-seconds <n>', 'how long to wait for the new worker to be ready', '300'),
  ).action((options: RestartOptions) => run(() => restart(options, io)));
}
