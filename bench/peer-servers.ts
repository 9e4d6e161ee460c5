// The peers peers.ts compares Almanac with — Radicale, Xandikos and (where PHP is installed) sabre/dav
// on PHP's built-in server — each started on 127.0.0.1 with fresh temporary storage, plus their direct
// storage writers for loads that would take too long over HTTP. Installs the Debian packages if missing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchFailure } from './suite.ts';
import { basicAuth, phoneUserName, processRss, type StoppableTarget } from './targets.ts';

export type PeerName = 'radicale' | 'xandikos' | 'sabredav';

export interface PeerOptions {
  readonly phoneUsers: number;
  /** Objects per collection loaded over HTTP; the rest are written into storage. */
  readonly httpLoadLimit: number;
  readonly log: (message: string) => void;
}

const PYTHON = '/usr/bin/python3';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Installs Debian packages with apt-get when a check command fails (the bench runs as root on a dev machine). */
export function ensurePackages(packages: readonly string[], present: () => boolean, log: (message: string) => void): boolean {
  if (present()) return true;
  log(`installing ${packages.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let result = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { stdio: ['ignore', 2, 2], env, timeout: 600_000 });
  if (result.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: ['ignore', 2, 2], env, timeout: 600_000 });
    result = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { stdio: ['ignore', 2, 2], env, timeout: 600_000 });
  }
  return result.status === 0 && present();
}

function succeeds(command: string, args: readonly string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore', timeout: 30_000 }).status === 0;
}

/** Waits until something answers HTTP on the port (any status), within a bound. */
async function waitForHttp(port: number, child: ChildProcess, what: string, logFile: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new BenchFailure(`${what} exited with code ${child.exitCode} before listening (see ${logFile})`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'OPTIONS', signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      return;
    } catch {
      await sleep(200);
    }
  }
  throw new BenchFailure(`${what} did not answer on 127.0.0.1:${port} within 30 s (see ${logFile})`);
}

interface Spawned {
  readonly child: ChildProcess;
  readonly logFile: string;
  stop(): Promise<void>;
}

function spawnServer(command: string, args: readonly string[], dir: string, env: NodeJS.ProcessEnv = process.env): Spawned {
  const logFile = join(dir, 'server.log');
  const fd = openSync(logFile, 'a');
  // Its own process group, so stop() also ends the workers it forks (PHP_CLI_SERVER_WORKERS), which
  // outlive a SIGTERM to the parent alone.
  const child = spawn(command, args, { cwd: dir, stdio: ['ignore', fd, fd], env, detached: true });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  return {
    child,
    logFile,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        signalGroup('SIGTERM');
        const timer = setTimeout(() => signalGroup('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      // Workers may take a moment longer than their parent.
      signalGroup('SIGTERM');
    },
  };
}

function writeItems(folder: string, items: readonly { readonly name: string; readonly body: string }[]): void {
  mkdirSync(folder, { recursive: true });
  for (const item of items) writeFileSync(join(folder, item.name), item.body);
}

// ---- Radicale --------------------------------------------------------------------------------------

/** Radicale 3 with htpasswd (plain) users, owner_only rights and a filesystem folder of its own. */
export async function startRadicale(options: PeerOptions): Promise<StoppableTarget> {
  if (!ensurePackages(['radicale'], () => succeeds(PYTHON, ['-c', 'import radicale']), options.log)) throw new BenchFailure('Radicale is not installed and apt-get could not install it');
  const dir = mkdtempSync(join(tmpdir(), 'bench-radicale-'));
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const users = ['bench', ...Array.from({ length: options.phoneUsers }, (_, i) => phoneUserName(i))];
  writeFileSync(join(dir, 'users'), users.map((u) => `${u}:${password}\n`).join(''));
  const storage = join(dir, 'collections');
  writeFileSync(join(dir, 'config'), [
    '[server]', `hosts = 127.0.0.1:${port}`, 'max_connections = 64', 'timeout = 300', '',
    '[auth]', 'type = htpasswd', `htpasswd_filename = ${join(dir, 'users')}`, 'htpasswd_encryption = plain', 'delay = 0', '',
    '[rights]', 'type = owner_only', '',
    '[storage]', `filesystem_folder = ${storage}`, '',
    '[web]', 'type = none', '',
    '[logging]', 'level = warning', 'mask_passwords = True', '',
  ].join('\n'));
  const server = spawnServer(PYTHON, ['-m', 'radicale', '--config', join(dir, 'config')], dir);
  try {
    await waitForHttp(port, server.child, 'Radicale', server.logFile);
  } catch (error) {
    await server.stop();
    throw error;
  }
  options.log(`started Radicale (pid ${String(server.child.pid)}) at http://127.0.0.1:${port}/ with storage in ${storage}`);
  return {
    name: 'radicale',
    baseUrl: `http://127.0.0.1:${port}/`,
    authorization: basicAuth('bench', password),
    ownAlmanac: false,
    validate: true,
    calendarHome: '/bench/',
    addressbookHome: '/bench/',
    httpLoadLimit: options.httpLoadLimit,
    phoneAccount: (index) => ({ authorization: basicAuth(phoneUserName(index), password), calendar: `/${phoneUserName(index)}/bench-phone/` }),
    // Radicale keeps each item as a file named like its href in the collection's folder.
    bulkWrite: (collection, items) => {
      writeItems(join(storage, 'collection-root', ...collection.split('/').filter((s) => s !== '')), items);
      return Promise.resolve();
    },
    rssBytes: () => processRss(server.child.pid),
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- Xandikos --------------------------------------------------------------------------------------

/** Commits files already written into a Xandikos collection (a git work tree) in one commit, as Xandikos itself does per PUT. */
const XANDIKOS_IMPORT = `
import json, os, sys
from dulwich.repo import Repo
from dulwich.objects import Blob
from dulwich.index import locked_index, index_entry_from_stat
path = sys.argv[1]
names = json.load(sys.stdin)
repo = Repo(path)
with locked_index(repo.index_path()) as index:
    for name in names:
        p = os.path.join(path, name)
        with open(p, 'rb') as f:
            blob = Blob.from_string(f.read())
        repo.object_store.add_object(blob)
        index[name.encode('utf-8')] = index_entry_from_stat(os.lstat(p), blob.id, 0)
    tree = index.commit(repo.object_store)
    repo.do_commit(message=b'bench: import %d items' % len(names), tree=tree)
`;

/** Xandikos (no authentication of its own) serving one principal, /bench/, with its default homes. */
export async function startXandikos(options: PeerOptions): Promise<StoppableTarget> {
  if (!ensurePackages(['xandikos'], () => succeeds(PYTHON, ['-c', 'import xandikos']), options.log)) throw new BenchFailure('Xandikos is not installed and apt-get could not install it');
  const dir = mkdtempSync(join(tmpdir(), 'bench-xandikos-'));
  const root = join(dir, 'root');
  const port = await freePort();
  const server = spawnServer(PYTHON, ['-m', 'xandikos.web', '-d', root, '-l', '127.0.0.1', '-p', String(port), '--defaults', '--current-user-principal', '/bench/'], dir);
  try {
    await waitForHttp(port, server.child, 'Xandikos', server.logFile);
  } catch (error) {
    await server.stop();
    throw error;
  }
  options.log(`started Xandikos (pid ${String(server.child.pid)}) at http://127.0.0.1:${port}/ with storage in ${root}`);
  // Xandikos does no authentication; the header is sent anyway so every server gets the same requests.
  const authorization = basicAuth('bench', 'unused');
  return {
    name: 'xandikos',
    baseUrl: `http://127.0.0.1:${port}/`,
    authorization,
    ownAlmanac: false,
    validate: true,
    calendarHome: '/bench/calendars/',
    addressbookHome: '/bench/contacts/',
    httpLoadLimit: options.httpLoadLimit,
    phoneAccount: (index) => ({ authorization, calendar: `/bench/calendars/bench-${phoneUserName(index)}/` }),
    bulkWrite: (collection, items) => {
      const folder = join(root, ...collection.split('/').filter((s) => s !== ''));
      writeItems(folder, items);
      const result = spawnSync(PYTHON, ['-c', XANDIKOS_IMPORT, folder], { input: JSON.stringify(items.map((i) => i.name)), stdio: ['pipe', 2, 2], timeout: 600_000 });
      if (result.status !== 0) return Promise.reject(new BenchFailure(`committing ${items.length} items into ${folder} failed`));
      return Promise.resolve();
    },
    rssBytes: () => processRss(server.child.pid),
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- sabre/dav -------------------------------------------------------------------------------------

export const SABRE_SERVER_PHP = 'sabredav-server.php';

/** sabre/dav (Debian's php-sabre-dav) with PDO SQLite on PHP's built-in server; see sabredav-server.php. */
export async function startSabre(options: PeerOptions): Promise<StoppableTarget> {
  if (!ensurePackages(['php-sabre-dav', 'php-cli', 'php-sqlite3'], () => existsSync('/usr/share/php/Sabre/autoload.php') && succeeds('php', ['-r', 'exit(class_exists("PDO") && in_array("sqlite", PDO::getAvailableDrivers()) ? 0 : 1);']), options.log)) {
    throw new BenchFailure('php-sabre-dav with php-sqlite3 is not installed and apt-get could not install it');
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-sabredav-'));
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const users = ['bench', ...Array.from({ length: options.phoneUsers }, (_, i) => phoneUserName(i))];
  const script = join(dirname(new URL(import.meta.url).pathname), SABRE_SERVER_PHP);
  // PHP_CLI_SERVER_WORKERS: the built-in server forks this many workers, like a small php-fpm pool.
  const env = { ...process.env, SABRE_BENCH_DB: join(dir, 'db.sqlite'), SABRE_BENCH_USERS: users.join(','), SABRE_BENCH_PASSWORD: password, PHP_CLI_SERVER_WORKERS: '4' };
  const init = spawnSync('php', [script, 'init'], { env, stdio: ['ignore', 2, 2], timeout: 60_000 });
  if (init.status !== 0) throw new BenchFailure('creating the sabre/dav database failed');
  const server = spawnServer('php', ['-d', 'memory_limit=1024M', '-d', 'max_execution_time=0', '-S', `127.0.0.1:${port}`, script], dir, env);
  try {
    await waitForHttp(port, server.child, 'sabre/dav', server.logFile);
  } catch (error) {
    await server.stop();
    throw error;
  }
  options.log(`started sabre/dav (pid ${String(server.child.pid)}) at http://127.0.0.1:${port}/ with its database in ${dir}`);
  return {
    name: 'sabredav',
    baseUrl: `http://127.0.0.1:${port}/`,
    authorization: basicAuth('bench', password),
    ownAlmanac: false,
    validate: true,
    calendarHome: '/calendars/bench/',
    addressbookHome: '/addressbooks/bench/',
    // No direct writer: everything goes over HTTP.
    httpLoadLimit: options.httpLoadLimit,
    phoneAccount: (index) => ({ authorization: basicAuth(phoneUserName(index), password), calendar: `/calendars/${phoneUserName(index)}/bench-phone/` }),
    rssBytes: () => processRss(server.child.pid),
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function startPeer(name: PeerName, options: PeerOptions): Promise<StoppableTarget> {
  switch (name) {
    case 'radicale':
      return startRadicale(options);
    case 'xandikos':
      return startXandikos(options);
    case 'sabredav':
      return startSabre(options);
  }
}
