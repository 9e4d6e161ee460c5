// The terminal a command talks to (standard streams, TTY-ness, environment), passed in so tests can
// run commands in-process; plus the helpers that read secrets and confirmations from it. Must not
// import the store, HTTP or DAV layers.
import { createInterface } from 'node:readline';
import { CliError, ExitCode } from './exit-codes.ts';

export interface CliIo {
  /** All of standard input, decoded as UTF-8. */
  readonly stdin: () => Promise<string>;
  /** One line of standard input without its line ending, or null at end of input. */
  readonly readLine: () => Promise<string | null>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether standard input is a terminal (a person can answer a question). */
  readonly isTTY: boolean;
  readonly env: NodeJS.ProcessEnv;
  /** Ends the process; only serve's signal handling uses it. */
  readonly exit: (code: number) => void;
}

export type CliIoOverrides = Partial<CliIo>;

// Fatal so a password in another encoding is refused rather than silently turned into U+FFFD,
// which would make different byte strings the same password.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  try {
    return UTF8.decode(Buffer.concat(chunks));
  } catch {
    throw new CliError(ExitCode.usage, 'standard input is not valid UTF-8');
  }
}

function readProcessLine(): Promise<string | null> {
  return new Promise((resolve) => {
    const lines = createInterface({ input: process.stdin, terminal: false });
    let answered = false;
    lines.once('line', (line) => {
      answered = true;
      lines.close();
      resolve(line);
    });
    lines.once('close', () => {
      if (!answered) resolve(null);
    });
  });
}

export function processIo(overrides: CliIoOverrides = {}): CliIo {
  // When tests give stdin but no readLine, a line is the first line of that input.
  const stdin = overrides.stdin ?? readProcessStdin;
  const readLine =
    overrides.readLine ??
    (overrides.stdin === undefined
      ? readProcessLine
      : async () => {
          const text = await stdin();
          return text === '' ? null : (text.split('\n')[0] ?? '').replace(/\r$/u, '');
        });
  return {
    stdin,
    readLine,
    stdout: overrides.stdout ?? ((text) => void process.stdout.write(text)),
    stderr: overrides.stderr ?? ((text) => void process.stderr.write(text)),
    // isTTY is undefined, not false, when stdin is a pipe or file.
    isTTY: overrides.isTTY ?? process.stdin.isTTY === true,
    env: overrides.env ?? process.env,
    exit: overrides.exit ?? ((code) => process.exit(code)),
  };
}

/**
 * The password piped on standard input. Exactly one trailing line ending is removed because
 * `echo` and here-documents add one; anything else, spaces included, is part of the password.
 */
export async function readPasswordFromStdin(io: CliIo): Promise<string> {
  if (io.isTTY) io.stderr('Password (then Enter and Ctrl-D): ');
  const text = await io.stdin();
  const password = text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
  if (password === '') throw new CliError(ExitCode.usage, 'the password read from standard input is empty');
  return password;
}
