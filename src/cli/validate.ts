// Checks on what a person types for account names, e-mail addresses and app-password labels,
// done before the store is touched so a mistake changes nothing. Imports only the CLI's errors.
import { CliError, ExitCode } from './exit-codes.ts';

// The name becomes a URL path segment (/dav/calendars/NAME/) and a Basic-auth user-id, so it is
// limited to characters that need no escaping in either; a leading dot or hyphen would read as a
// relative path or a command-line option.
const USER_NAME = /^[a-z0-9_][a-z0-9._-]{0,63}$/u;

export function checkUserName(name: string): string {
  if (!USER_NAME.test(name)) {
    throw new CliError(
      ExitCode.usage,
      `invalid user name ${JSON.stringify(name)}: use 1-64 lower-case letters, digits, '.', '_' or '-', not starting with '.' or '-'`,
    );
  }
  return name;
}

// Deliberately loose: the address is only shown to clients, and real address syntax is wider than
// any regular expression people get right.
const EMAIL = /^[^\s@]+@[^\s@]+$/u;

export function checkEmail(email: string): string {
  if (!EMAIL.test(email)) throw new CliError(ExitCode.usage, `invalid e-mail address ${JSON.stringify(email)}`);
  return email;
}

// Control characters and line separators would corrupt the list output and logs.
const UNPRINTABLE = /[\p{Cc}\p{Zl}\p{Zp}]/u;

export function checkLabel(label: string): string {
  const length = [...label].length;
  if (length < 1 || length > 64 || UNPRINTABLE.test(label)) {
    throw new CliError(ExitCode.usage, `invalid label ${JSON.stringify(label)}: use 1-64 printable characters`);
  }
  return label;
}

export function checkDisplayName(text: string): string {
  if (UNPRINTABLE.test(text)) throw new CliError(ExitCode.usage, 'the display name must not contain control characters or line breaks');
  return text;
}
