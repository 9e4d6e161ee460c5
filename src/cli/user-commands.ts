// `almanac user …`: create, list, re-password and delete accounts. Passwords only ever arrive on
// standard input, never as arguments, because arguments end up in shell history and `ps` output.
import type { Command } from 'commander';
import { hashPassword } from '../auth/passwords.ts';
import { UserExists } from '../store/errors.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import { isoTime, json, table } from './format.ts';
import { readPasswordFromStdin, type CliIo } from './io.ts';
import { addStoreOptions, type Run } from './run.ts';
import { withStore, type StoreOptions } from './store.ts';
import { checkDisplayName, checkEmail, checkUserName } from './validate.ts';

interface AddOptions extends StoreOptions {
  readonly email?: string;
  readonly displayName?: string;
  readonly passwordStdin?: boolean;
}

function requirePasswordStdin(options: { readonly passwordStdin?: boolean }): void {
  if (options.passwordStdin !== true) {
    throw new CliError(
      ExitCode.usage,
      'pass --password-stdin and pipe the password in (for example: printf %s "$PASSWORD" | almanac user add NAME --password-stdin); passwords are never taken as arguments',
    );
  }
}

export async function userAdd(name: string, options: AddOptions, io: CliIo): Promise<number> {
  checkUserName(name);
  const email = options.email === undefined ? null : checkEmail(options.email);
  const displayName = options.displayName === undefined || options.displayName === '' ? null : checkDisplayName(options.displayName);
  requirePasswordStdin(options);
  const password = await readPasswordFromStdin(io);
  return withStore(options, io, async (store) => {
    const passwordHash = await hashPassword(password);
    try {
      await store.createUser({ name, email, displayName, passwordHash });
    } catch (error) {
      if (error instanceof UserExists) throw new CliError(ExitCode.alreadyExists, `user ${name} already exists`);
      throw error;
    }
    io.stdout(`created user ${name}\n`);
    return ExitCode.ok;
  });
}

export async function userList(options: StoreOptions & { readonly json?: boolean }, io: CliIo): Promise<number> {
  const users = await withStore(options, io, (store) => store.listUsers());
  if (options.json === true) {
    io.stdout(json(users.map((user) => ({ name: user.name, email: user.email, displayName: user.displayName, createdAt: isoTime(user.createdAt) }))));
  } else if (users.length === 0) {
    io.stderr('no users yet; add one with: almanac user add NAME --password-stdin\n');
  } else {
    io.stdout(table(['NAME', 'EMAIL', 'DISPLAY NAME', 'CREATED'], users.map((user) => [user.name, user.email, user.displayName, isoTime(user.createdAt)])));
  }
  return ExitCode.ok;
}

export async function userPasswd(name: string, options: StoreOptions & { readonly passwordStdin?: boolean }, io: CliIo): Promise<number> {
  requirePasswordStdin(options);
  const password = await readPasswordFromStdin(io);
  return withStore(options, io, async (store) => {
    // Checked before hashing so a mistyped name fails at once, and re-checked by the update itself.
    if ((await store.getUser(name)) === null || !(await store.setPasswordHash(name, await hashPassword(password)))) {
      throw new CliError(ExitCode.notFound, `no user ${name}`);
    }
    io.stdout(`password changed for ${name}\n`);
    return ExitCode.ok;
  });
}

export async function userDelete(name: string, options: StoreOptions & { readonly yes?: boolean }, io: CliIo): Promise<number> {
  const confirmed = options.yes === true;
  // Refused before anything else: a script must not hang waiting for an answer nobody will type.
  if (!confirmed && !io.isTTY) throw new CliError(ExitCode.usage, 'refusing to delete without confirmation: use --yes in scripts');
  return withStore(options, io, async (store) => {
    if ((await store.getUser(name)) === null) throw new CliError(ExitCode.notFound, `no user ${name}`);
    if (!confirmed) {
      io.stderr(`Delete user ${name} and all their calendars, contacts and files? Type the user name to confirm: `);
      const answer = await io.readLine();
      if (answer?.trim() !== name) throw new CliError(ExitCode.aborted, 'aborted: nothing was deleted');
    }
    if (!(await store.deleteUser(name))) throw new CliError(ExitCode.notFound, `no user ${name}`);
    io.stdout(`deleted user ${name}\n`);
    return ExitCode.ok;
  });
}

export function registerUserCommands(program: Command, io: CliIo, run: Run): void {
  const user = program.command('user').description('manage accounts');

  addStoreOptions(
    user
      .command('add')
      .description('create an account; the password is read from standard input')
      .argument('<name>', "account name: 1-64 of a-z 0-9 . _ - (not starting with '.' or '-')")
      .option('--email <address>', 'e-mail address')
      .option('--display-name <text>', 'name shown to clients')
      .option('--password-stdin', 'read the password from standard input (required; one trailing newline is removed)')
      .addHelpText('after', '\nExample:\n  printf %s "$PASSWORD" | almanac user add alice --email alice@example.org --password-stdin'),
  ).action((name: string, options: AddOptions) => run(() => userAdd(name, options, io)));

  addStoreOptions(user.command('list').description('list accounts').option('--json', 'print a JSON array')).action((options: StoreOptions & { json?: boolean }) =>
    run(() => userList(options, io)),
  );

  addStoreOptions(
    user
      .command('passwd')
      .description("change an account's password; the new password is read from standard input")
      .argument('<name>', 'account name')
      .option('--password-stdin', 'read the password from standard input (required; one trailing newline is removed)'),
  ).action((name: string, options: StoreOptions & { passwordStdin?: boolean }) => run(() => userPasswd(name, options, io)));

  addStoreOptions(
    user
      .command('delete')
      .description('delete an account with all its calendars, contacts and files')
      .argument('<name>', 'account name')
      .option('--yes', 'do not ask for confirmation (required when standard input is not a terminal)'),
  ).action((name: string, options: StoreOptions & { yes?: boolean }) => run(() => userDelete(name, options, io)));
}
