// The exit codes scripts may rely on, and the error type that carries one out of a command. Exit
// codes are part of the CLI's public contract: change them only with a release note. Imports
// nothing of ours.

export const ExitCode = {
  ok: 0,
  /** The command could not do its work: store unreachable, port taken, unexpected error. */
  failure: 1,
  /** Bad arguments, options or configuration; nothing was changed. */
  usage: 2,
  notFound: 3,
  alreadyExists: 4,
  /** The user declined a confirmation; nothing was changed. */
  aborted: 5,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Shown after `almanac --help`. */
export const EXIT_CODE_HELP = `Exit codes:
  0  success
  1  runtime failure (store unreachable, cannot listen, unexpected error)
  2  usage or configuration error
  3  not found (no such user or app password)
  4  already exists
  5  aborted (confirmation declined)`;

/** A failure with a message meant for the person at the terminal, and the exit code to report. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: ExitCodeValue;
  constructor(exitCode: ExitCodeValue, message: string) {
    super(message);
    this.exitCode = exitCode;
  }
}
