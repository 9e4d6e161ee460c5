// What every command shares: the --data/--config options, and turning a command's outcome or
// failure into one `almanac: …` line and an exit code. Imports only config, store errors and the
// CLI's own modules.
import type { Command } from 'commander';
import { ConfigError, DEFAULTS, envName } from '../config/config.ts';
import { StoreError, StoreUnavailable } from '../store/errors.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import type { CliIo } from './io.ts';

/** Runs a command's work and records its exit code. */
export type Run = (task: () => Promise<number>) => Promise<void>;

export function addStoreOptions(command: Command): Command {
  return command
    .option('--data <dir>', `data folder (env ${envName('data')}; default ${DEFAULTS.data})`)
    .option('--database <url>', `postgres://… to use PostgreSQL instead of SQLite in the data folder (env ${envName('database')})`)
    .option('--config <file>', 'JSON configuration file (env ALMANAC_CONFIG)');
}

/** The exit code for a failure, after telling the person what went wrong. */
export function reportFailure(error: unknown, io: CliIo): number {
  if (error instanceof CliError) {
    io.stderr(`almanac: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof ConfigError) {
    io.stderr(`almanac: ${error.message}\n`);
    return ExitCode.usage;
  }
  if (error instanceof StoreUnavailable) {
    io.stderr(`almanac: store unavailable: ${error.message}\n`);
    return ExitCode.failure;
  }
  if (error instanceof StoreError) {
    io.stderr(`almanac: ${error.message}\n`);
    return ExitCode.failure;
  }
  // Unexpected: keep the stack, it is what a bug report needs.
  io.stderr(`almanac: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return ExitCode.failure;
}

export async function guarded(task: () => Promise<number>, io: CliIo): Promise<number> {
  try {
    return await task();
  } catch (error) {
    return reportFailure(error, io);
  }
}
