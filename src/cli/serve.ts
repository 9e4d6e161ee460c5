// `almanac serve`: start a node from the configuration, announce it, and on SIGTERM/SIGINT drain
// in-flight requests before exiting. By default on Linux and macOS the process is a supervisor
// (supervisor.ts) and the node runs in a worker process, so SIGHUP / `almanac restart` replaces the
// node without refusing a connection; `--single-process` runs the node in this process (no
// restart without downtime). The only command that may end the process itself.
import cluster from 'node:cluster';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { configSchema, DEFAULTS, envName, loadConfig, type Config } from '../config/config.ts';
import type { Logger } from 'pino';
import { createLogger, startAlmanac, type RunningAlmanac } from '../http/app.ts';
import { ExitCode } from './exit-codes.ts';
import type { CliIo } from './io.ts';
import { addStoreOptions, type Run } from './run.ts';
import { Supervisor, type SupervisorCommand, type WorkerReport } from './supervisor.ts';

export interface ServeOptions {
  readonly host?: string;
  readonly port?: string;
  readonly data?: string;
  readonly database?: string;
  readonly databaseReplica?: string;
  readonly config?: string;
  readonly logLevel?: string;
  readonly singleProcess?: boolean;
}

// If draining and closing have not let the process end by then, something still holds the event
// loop; exit anyway rather than hang a deployment.
const EXIT_FALLBACK_MS = 2_000;

function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/u.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

function listenFailure(error: unknown, config: Config): string {
  const where = `${config.host}:${config.port}`;
  switch ((error as { code?: unknown }).code) {
    case 'EADDRINUSE':
      return `cannot listen on ${where}: the address is already in use (another Almanac running? choose another --port)`;
    case 'EACCES':
      return `cannot listen on ${where}: permission denied (ports below 1024 need privileges)`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: ${config.host} is not an address of this machine`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot listen on ${where}: cannot resolve host ${config.host}`;
    default:
      return `cannot start: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function waitForSignal(running: RunningAlmanac, io: CliIo): Promise<number> {
  return new Promise((settle) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        running.logger.warn({ signal }, 'second signal: exiting without waiting for requests');
        io.exit(ExitCode.failure);
        return;
      }
      stopping = true;
      running.logger.info({ signal }, 'shutting down: draining in-flight requests');
      const finish = (code: number): void => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        setTimeout(() => io.exit(code), EXIT_FALLBACK_MS).unref();
        settle(code);
      };
      running.stop().then(
        () => {
          running.logger.info('stopped');
          finish(ExitCode.ok);
        },
        (error: unknown) => {
          running.logger.error({ err: error }, 'shutdown failed');
          finish(ExitCode.failure);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

async function accountHint(running: RunningAlmanac, config: Config, io: CliIo): Promise<void> {
  try {
    if ((await running.store.listUsers()).length === 0) {
      const data = config.data === resolve(DEFAULTS.data) ? '' : ` --data ${shellWord(config.data)}`;
      io.stderr(`almanac: no accounts yet; add one with: npx almanac user add NAME --password-stdin${data}\n`);
    }
  } catch {
    // Only a hint; the server itself reports store trouble through /readyz and its logs.
  }
}

function report(message: WorkerReport): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

/** A supervisor's worker: serves once ready, says so, and stops or hands over when told. */
async function serveAsWorker(config: Config, logger: Logger, io: CliIo): Promise<number> {
  let command: SupervisorCommand['almanac'] | undefined;
  let wake: () => void = () => undefined;
  const told = new Promise<void>((resolve) => (wake = resolve));
  const listen = (message: unknown): void => {
    const almanac = (message as Partial<SupervisorCommand> | null)?.almanac;
    if (almanac !== 'stop' && almanac !== 'hand-over') return;
    command ??= almanac;
    wake();
  };
  process.on('message', listen);
  // Without its supervisor nobody would ever tell this worker to stop.
  process.once('disconnect', () => listen({ almanac: 'stop' }));
  // Ctrl-C reaches the whole process group; the supervisor decides what the workers do.
  process.on('SIGINT', () => undefined);
  process.once('SIGTERM', () => listen({ almanac: 'stop' }));
  let running: RunningAlmanac;
  try {
    running = await startAlmanac(config, logger, { supervisorPid: process.ppid });
  } catch (error) {
    const message = listenFailure(error, config);
    io.stderr(`almanac: ${message}\n`);
    await report({ almanac: 'failed', message });
    // The IPC channel would keep the process alive.
    process.disconnect();
    return ExitCode.failure;
  }
  await report({ almanac: 'ready', url: running.url });
  await accountHint(running, config, io);
  await told;
  running.logger.info({ command }, command === 'hand-over' ? 'handing over to a new worker: draining' : 'shutting down: draining in-flight requests');
  let code: number = ExitCode.ok;
  try {
    await (command === 'hand-over' ? running.handOver() : running.stop());
  } catch (error) {
    running.logger.error({ err: error }, 'shutdown failed');
    code = ExitCode.failure;
  }
  process.off('message', listen);
  // The IPC channel would keep the process alive.
  setTimeout(() => io.exit(code), EXIT_FALLBACK_MS).unref();
  process.disconnect();
  return code;
}

export async function serve(options: ServeOptions, io: CliIo, workerArgs: readonly string[] = []): Promise<number> {
  const config = loadConfig(
    { host: options.host, port: options.port, data: options.data, database: options.database, databaseReplica: options.databaseReplica, logLevel: options.logLevel },
    io.env,
    options.config,
  );
  // Logs go to stderr so stdout carries only the announcement line a supervisor or test waits for.
  const logger = createLogger(config, { write: (line: string) => io.stderr(line) });
  if (cluster.isWorker) return serveAsWorker(config, logger, io);
  if (options.singleProcess !== true && process.platform !== 'win32') {
    try {
      return await new Supervisor(config, io, logger, workerArgs).run();
    } catch (error) {
      io.stderr(`almanac: ${listenFailure(error, config)}\n`);
      return ExitCode.failure;
    }
  }
  let running: RunningAlmanac;
  try {
    running = await startAlmanac(config, logger);
  } catch (error) {
    io.stderr(`almanac: ${listenFailure(error, config)}\n`);
    return ExitCode.failure;
  }
  // Handlers go in before the announcement: whoever waits for that line may signal right away.
  const stopped = waitForSignal(running, io);
  io.stdout(`Almanac listening on ${running.url}\n`);
  await accountHint(running, config, io);
  return stopped;
}

export function registerServe(program: Command, io: CliIo, run: Run, argv: readonly string[]): void {
  const described = (key: keyof Config, text: string): string => `${text} (env ${envName(key)}; default ${String(DEFAULTS[key])})`;
  addStoreOptions(
    program
      .command('serve')
      .description('run the CalDAV/CardDAV/WebDAV server')
      .option('--host <host>', described('host', 'address to listen on'))
      .option('--port <port>', described('port', 'TCP port; 0 picks a free one'))
      .option('--database-replica <url>', `postgres://… of a streaming replica of --database, for queries and multigets (env ${envName('databaseReplica')})`)
      .addOption(new Option('--log-level <level>', described('logLevel', 'log detail')).choices(configSchema.shape.logLevel.options))
      .option('--single-process', 'serve from this process, without a supervisor (no restart without downtime)'),
  ).action((options: ServeOptions) => run(() => serve(options, io, argv)));
}
