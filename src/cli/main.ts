// The `almanac` command line: builds the command tree, parses argv, and returns the exit code
// instead of exiting, so tests run it in-process. May import every other part of Almanac.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerAppPasswordCommands } from './app-password-commands.ts';
import { registerBackupCommands } from './backup-commands.ts';
import { registerReleaseCommands } from './release-commands.ts';
import { EXIT_CODE_HELP, ExitCode } from './exit-codes.ts';
import { processIo, type CliIoOverrides } from './io.ts';
import { registerMigrateCommands } from './migrate-commands.ts';
import { registerMigrateStoreCommand } from './migrate-store-command.ts';
import { guarded, reportFailure } from './run.ts';
import { registerRestart } from './restart-command.ts';
import { registerServe } from './serve.ts';
import { registerUserCommands } from './user-commands.ts';

// The same relative path from src/cli/main.ts and from the compiled dist/cli/main.js.
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

/** Runs the command line (`argv` as in process.argv) and resolves to the exit code. */
export async function main(argv: readonly string[], overrides: CliIoOverrides = {}): Promise<number> {
  const io = processIo(overrides);
  let exitCode: number = ExitCode.ok;
  const run = async (task: () => Promise<number>): Promise<void> => {
    exitCode = await guarded(task, io);
  };

  // Output and exit settings first: subcommands copy them when they are created.
  const program = new Command('almanac')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)')
    .description('Almanac: a CalDAV/CardDAV/WebDAV server')
    .version(packageVersion())
    .addHelpText('after', `\n${EXIT_CODE_HELP}`);

  // A supervisor starts its workers with the same arguments.
  registerServe(program, io, run, argv.slice(2));
  registerRestart(program, io, run);
  registerUserCommands(program, io, run);
  registerAppPasswordCommands(program, io, run);
  registerBackupCommands(program, io, run);
  registerReleaseCommands(program, io, run);
  registerMigrateCommands(program, io, run);
  registerMigrateStoreCommand(program, io, run);

  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version end with exit code 0; commander's own complaints are usage errors.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    return reportFailure(error, io);
  }
  return exitCode;
}
