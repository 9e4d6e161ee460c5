// `almanac serve`: start one node from the configuration, announce it, and on SIGTERM/SIGINT drain
// in-flight requests before exiting. The only command that may end the process itself.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { configSchema, DEFAULTS, envName, loadConfig, type Config } from '../config/config.ts';
import { createLogger, startAlmanac, type RunningAlmanac } from '../http/app.ts';
import { ExitCode } from './exit-codes.ts';
import type { CliIo } from './io.ts';
import { addStoreOptions, type Run } from './run.ts';

export interface ServeOptions {
  readonly host?: string;
  readonly port?: string;
  readonly data?: string;
  readonly database?: string;
  readonly config?: string;
  readonly logLevel?: string;
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

export async function serve(options: ServeOptions, io: CliIo): Promise<number> {
  const config = loadConfig({ host: options.host, port: options.port, data: options.data, database: options.database, logLevel: options.logLevel }, io.env, options.config);
  // Logs go to stderr so stdout carries only the announcement line a supervisor or test waits for.
  const logger = createLogger(config, { write: (line: string) => io.stderr(line) });
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
  try {
    if ((await running.store.listUsers()).length === 0) {
      const data = config.data === resolve(DEFAULTS.data) ? '' : ` --data ${shellWord(config.data)}`;
      io.stderr(`almanac: no accounts yet; add one with: npx almanac user add NAME --password-stdin${data}\n`);
    }
  } catch {
    // Only a hint; the server itself reports store trouble through /readyz and its logs.
  }
  return stopped;
}

export function registerServe(program: Command, io: CliIo, run: Run): void {
  const described = (key: keyof Config, text: string): string => `${text} (env ${envName(key)}; default ${String(DEFAULTS[key])})`;
  addStoreOptions(
    program
      .command('serve')
      .description('run the CalDAV/CardDAV/WebDAV server')
      .option('--host <host>', described('host', 'address to listen on'))
      .option('--port <port>', described('port', 'TCP port; 0 picks a free one'))
      .addOption(new Option('--log-level <level>', described('logLevel', 'log detail')).choices(configSchema.shape.logLevel.options)),
  ).action((options: ServeOptions) => run(() => serve(options, io)));
}
