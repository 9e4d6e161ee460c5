// Tests for the almanac command line, run in-process against a fresh data folder each, plus one run
// of the real executable when dist/ has been built.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { APP_PASSWORD_ALPHABET, verifyPassword } from '../auth/passwords.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { main } from './main.ts';

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let dataDir = '';

async function cli(args: readonly string[], options: { stdin?: string; isTTY?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'almanac', ...args], {
    stdin: () => Promise.resolve(options.stdin ?? ''),
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    isTTY: options.isTTY ?? false,
    // Empty so ALMANAC_* variables of whoever runs the tests cannot leak in.
    env: options.env ?? {},
    exit: (exitCode) => {
      throw new Error(`unexpected exit(${exitCode})`);
    },
  });
  return { code, stdout, stderr };
}

const addUser = (name: string, password = 'secret', extra: readonly string[] = []): Promise<Result> =>
  cli(['user', 'add', name, '--password-stdin', '--data', dataDir, ...extra], { stdin: `${password}\n` });

async function credentials(name: string) {
  const store = SqliteStore.open({ dataDir });
  try {
    return await store.lookupCredentials(name);
  } finally {
    await store.close();
  }
}

void describe('almanac CLI', () => {
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'almanac-cli-'));
  });
  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  void it('adds a user and lists it as a table and as JSON', async () => {
    const added = await addUser('alice', 'secret', ['--email', 'alice@example.org', '--display-name', 'Alice A.']);
    assert.deepEqual(added, { code: 0, stdout: 'created user alice\n', stderr: '' });

    const listed = await cli(['user', 'list', '--data', dataDir]);
    assert.equal(listed.code, 0);
    const lines = listed.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^NAME\s+EMAIL\s+DISPLAY NAME\s+CREATED$/u);
    assert.match(lines[1] ?? '', /^alice\s+alice@example\.org\s+Alice A\.\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/u);

    const asJson = await cli(['user', 'list', '--json', '--data', dataDir]);
    assert.equal(asJson.code, 0);
    const users = JSON.parse(asJson.stdout) as { name: string; email: string; displayName: string; createdAt: string }[];
    assert.equal(users.length, 1);
    assert.equal(users[0]?.name, 'alice');
    assert.equal(users[0]?.email, 'alice@example.org');
    assert.equal(users[0]?.displayName, 'Alice A.');
    assert.ok(!Number.isNaN(Date.parse(users[0]?.createdAt ?? '')));
  });

  void it('finds the data folder through ALMANAC_DATA', async () => {
    assert.equal((await cli(['user', 'add', 'bob', '--password-stdin'], { stdin: 'pw', env: { ALMANAC_DATA: dataDir } })).code, 0);
    assert.equal((await credentials('bob'))?.userName, 'bob');
  });

  void it('strips exactly one trailing line ending from the password', async () => {
    assert.equal((await cli(['user', 'add', 'carol', '--password-stdin', '--data', dataDir], { stdin: ' pw \r\n\r\n' })).code, 0);
    const hash = (await credentials('carol'))?.passwordHash ?? '';
    assert.equal(await verifyPassword(hash, ' pw \r\n'), true);
  });

  void it('refuses a duplicate user with exit 4', async () => {
    await addUser('alice');
    const again = await addUser('alice');
    assert.equal(again.code, 4);
    assert.match(again.stderr, /user alice already exists/u);
  });

  void it('refuses invalid names and e-mail addresses with exit 2', async () => {
    for (const name of ['Alice', '.hidden', '-x', 'a/b', 'a b', 'é', '', 'x'.repeat(65)]) {
      // After `--` so a leading hyphen reaches the name check instead of the option parser.
      const result = await cli(['user', 'add', '--password-stdin', '--data', dataDir, '--', name], { stdin: 'pw' });
      assert.equal(result.code, 2, name);
      assert.match(result.stderr, /invalid user name/u);
    }
    assert.equal((await addUser('x'.repeat(64))).code, 0);
    assert.equal((await addUser('_ok.name-1')).code, 0);
    const badEmail = await addUser('dave', 'pw', ['--email', 'not an@address']);
    assert.equal(badEmail.code, 2);
    assert.match(badEmail.stderr, /invalid e-mail/u);
  });

  void it('requires --password-stdin and a non-empty password', async () => {
    const missing = await cli(['user', 'add', 'alice', '--data', dataDir], { stdin: 'secret\n' });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--password-stdin/u);
    const onCommandLine = await cli(['user', 'add', 'alice', '--password', 'secret', '--data', dataDir]);
    assert.equal(onCommandLine.code, 2);
    for (const stdin of ['', '\n', '\r\n']) {
      const empty = await cli(['user', 'add', 'alice', '--password-stdin', '--data', dataDir], { stdin });
      assert.equal(empty.code, 2, JSON.stringify(stdin));
      assert.match(empty.stderr, /empty/u);
    }
    assert.equal((await cli(['user', 'list', '--json', '--data', dataDir])).stdout, '[]\n');
  });

  void it('passwd changes the stored hash, and reports a missing user with exit 3', async () => {
    const missing = await cli(['user', 'passwd', 'nobody', '--password-stdin', '--data', dataDir], { stdin: 'new\n' });
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /no user nobody/u);

    await addUser('alice', 'old');
    const before = await credentials('alice');
    const changed = await cli(['user', 'passwd', 'alice', '--password-stdin', '--data', dataDir], { stdin: 'new\n' });
    assert.deepEqual(changed, { code: 0, stdout: 'password changed for alice\n', stderr: '' });
    const after = await credentials('alice');
    assert.ok(after !== null && before !== null);
    assert.notEqual(after.passwordHash, before.passwordHash);
    assert.ok(after.credentialsVersion > before.credentialsVersion);
    assert.equal(await verifyPassword(after.passwordHash ?? '', 'new'), true);
    assert.equal(await verifyPassword(after.passwordHash ?? '', 'old'), false);
  });

  void it('deletes with --yes, refuses without it in scripts, aborts on a wrong answer', async () => {
    await addUser('alice');
    const scripted = await cli(['user', 'delete', 'alice', '--data', dataDir]);
    assert.equal(scripted.code, 2);
    assert.match(scripted.stderr, /--yes/u);

    const declined = await cli(['user', 'delete', 'alice', '--data', dataDir], { isTTY: true, stdin: 'alicia\n' });
    assert.equal(declined.code, 5);
    assert.match(declined.stderr, /Type the user name to confirm/u);
    assert.notEqual(await credentials('alice'), null);

    const confirmed = await cli(['user', 'delete', 'alice', '--data', dataDir], { isTTY: true, stdin: 'alice\n' });
    assert.equal(confirmed.code, 0);
    assert.equal(await credentials('alice'), null);

    await addUser('bob');
    assert.equal((await cli(['user', 'delete', 'bob', '--yes', '--data', dataDir])).code, 0);
    assert.equal(await credentials('bob'), null);
    assert.equal((await cli(['user', 'delete', 'bob', '--yes', '--data', dataDir])).code, 3);
  });

  void it('app-password add prints a password once that verifies; list and revoke', async () => {
    await addUser('alice');
    const added = await cli(['app-password', 'add', 'alice', 'phone', '--data', dataDir]);
    assert.equal(added.code, 0);
    const group = `[${APP_PASSWORD_ALPHABET}]{4}`;
    assert.match(added.stdout, new RegExp(`^${group}-${group}-${group}-${group}\\n$`, 'u'));
    assert.match(added.stderr, /not be shown again/u);
    const stored = await credentials('alice');
    assert.equal(stored?.appPasswordHashes.length, 1);
    assert.equal(await verifyPassword(stored?.appPasswordHashes[0]?.hash ?? '', added.stdout.trim()), true);

    assert.equal((await cli(['app-password', 'add', 'alice', 'phone', '--data', dataDir])).code, 4);
    assert.equal((await cli(['app-password', 'add', 'nobody', 'phone', '--data', dataDir])).code, 3);
    assert.equal((await cli(['app-password', 'add', 'alice', 'bad\nlabel', '--data', dataDir])).code, 2);

    const listed = await cli(['app-password', 'list', 'alice', '--data', dataDir]);
    assert.equal(listed.code, 0);
    assert.match(listed.stdout, /^LABEL\s+CREATED\s+LAST USED\nphone\s+\S+Z\s+never\n$/u);
    const asJson = JSON.parse((await cli(['app-password', 'list', 'alice', '--json', '--data', dataDir])).stdout) as unknown[];
    assert.deepEqual(
      asJson.map((entry) => ({ ...(entry as object), createdAt: 'x' })),
      [{ label: 'phone', createdAt: 'x', lastUsedAt: null }],
    );
    assert.equal((await cli(['app-password', 'list', 'nobody', '--data', dataDir])).code, 3);

    const revoked = await cli(['app-password', 'revoke', 'alice', 'phone', '--data', dataDir]);
    assert.deepEqual(revoked, { code: 0, stdout: 'revoked phone for alice\n', stderr: '' });
    assert.equal((await credentials('alice'))?.appPasswordHashes.length, 0);
    const again = await cli(['app-password', 'revoke', 'alice', 'phone', '--data', dataDir]);
    assert.equal(again.code, 3);
    assert.equal((await cli(['app-password', 'revoke', 'nobody', 'phone', '--data', dataDir])).code, 3);
  });

  void it('reports an invalid configuration with exit 2, naming the setting', async () => {
    const result = await cli(['serve', '--data', dataDir], { env: { ALMANAC_PORT: 'notanumber' } });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^almanac: .*\bport\b/u);
    assert.equal(result.stdout, '');
  });

  void it('answers --help on commands and subcommands, and maps commander errors to exit 2', async () => {
    const help = await cli(['user', 'add', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--password-stdin/u);
    const top = await cli(['--help']);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /Exit codes:/u);
    for (const args of [['serve', '--help'], ['app-password', 'revoke', '--help'], ['user', '--help']]) {
      assert.equal((await cli(args)).code, 0, args.join(' '));
    }
    assert.match((await cli(['--version'])).stdout, /^\d+\.\d+\.\d+/u);

    const unknown = await cli(['user', 'list', '--bogus']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--bogus'/u);
    assert.equal((await cli(['user', 'passwd'])).code, 2);
    assert.equal((await cli(['frobnicate'])).code, 2);
    assert.equal((await cli(['user'])).code, 2);
  });

  void it('runs the built executable: user add, then serve announces itself and stops on SIGTERM', async (t) => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
      t.skip('dist not built');
      return;
    }
    const bin = join(root, 'bin', 'almanac.js');
    const env = { ...process.env, ALMANAC_DATA: dataDir };
    const added = spawnSync(process.execPath, [bin, 'user', 'add', 'alice', '--password-stdin'], { input: 'secret\n', env, encoding: 'utf8' });
    assert.equal(added.status, 0, added.stderr);
    assert.equal(added.stdout, 'created user alice\n');

    const server = spawn(process.execPath, [bin, 'serve', '--port', '0', '--log-level', 'warn'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    server.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const line = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      server.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (stdout.includes('\n')) resolve(stdout);
      });
      server.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    });
    assert.match(line, /^Almanac listening on http:\/\/127\.0\.0\.1:\d+\/\n$/u);
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  });
});
