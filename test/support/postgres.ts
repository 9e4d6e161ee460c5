// A throw-away PostgreSQL cluster for tests: initdb into a temporary folder (as the `postgres` system
// user when running as root, because initdb refuses root), a postmaster listening on 127.0.0.1 on a
// free port with its unix socket inside that folder, one fresh database per test on demand, and
// everything stopped and deleted at the end. No mocks: the Debian `postgresql` binaries themselves.
// Imports nothing of ours except the interop switch.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { interopRequired } from './server-process.ts';

const SUPERUSER = 'almanac';

/** The newest installed PostgreSQL's bin folder, or undefined when none is installed. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresMissing(): string | undefined {
  return postgresBinDir() === undefined ? 'PostgreSQL is not installed (apt-get install postgresql)' : undefined;
}

/** `skip` option for describe(): skip without PostgreSQL, unless the run requires it (CI) — then fail. */
export function skipWithoutPostgres(): string | false {
  const missing = postgresMissing();
  return missing !== undefined && !interopRequired() ? missing : false;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** uid/gid of the `postgres` system user when we are root (initdb and postgres refuse to run as root). */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const fields = line?.split(':');
  if (fields === undefined || fields.length < 4) throw new Error('running as root but there is no postgres system user to run PostgreSQL as');
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

export class TestPostgres {
  readonly port: number;
  private readonly dir: string;
  private readonly bin: string;
  private readonly user: { uid: number; gid: number } | undefined;
  private child: ChildProcess | undefined;
  private log = '';
  private counter = 0;

  private constructor(dir: string, bin: string, port: number, user: { uid: number; gid: number } | undefined) {
    this.dir = dir;
    this.bin = bin;
    this.port = port;
    this.user = user;
  }

  /** initdb + start. Throws when PostgreSQL is not installed. */
  static async start(): Promise<TestPostgres> {
    const bin = postgresBinDir();
    if (bin === undefined) throw new Error(postgresMissing());
    const dir = mkdtempSync(join(tmpdir(), 'almanac-pg-'));
    const user = runAs();
    if (user !== undefined) chownSync(dir, user.uid, user.gid);
    const init = spawnSync(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-U', SUPERUSER, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], {
      encoding: 'utf8',
      ...(user === undefined ? {} : { uid: user.uid, gid: user.gid }),
      cwd: dir,
    });
    if (init.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`initdb failed (${init.status}): ${init.stderr}${init.error?.message ?? ''}`);
    }
    const cluster = new TestPostgres(dir, bin, await freePort(), user);
    await cluster.resume();
    // A crashed test process must not leave a postmaster behind.
    process.once('exit', () => cluster.child?.kill('SIGKILL'));
    return cluster;
  }

  /** Starts the postmaster on the existing data folder (again, after suspend()). */
  async resume(): Promise<void> {
    if (this.child !== undefined) return;
    const args = [
      '-D', join(this.dir, 'data'), '-p', String(this.port),
      '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${this.dir}`,
      // Durability is not what these tests check; speed is what CI needs.
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
      '-c', 'max_connections=200', '-c', 'shared_buffers=32MB',
    ];
    const child = spawn(join(this.bin, 'postgres'), args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: this.dir,
      ...(this.user === undefined ? {} : { uid: this.user.uid, gid: this.user.gid }),
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.log = (this.log + chunk.toString()).slice(-8000);
    });
    this.child = child;
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode}: ${this.log}`);
      const client = new pg.Client({ connectionString: this.url('postgres'), connectionTimeoutMillis: 1000 });
      try {
        await client.connect();
        await client.end();
        return;
      } catch (error) {
        await client.end().catch(() => undefined);
        if (Date.now() > deadline) throw new Error(`postgres did not accept connections within 20 s: ${(error as Error).message}\n${this.log}`, { cause: error });
        await sleep(50);
      }
    }
  }

  /** Stops the postmaster (fast shutdown) but keeps the data, to simulate an outage. */
  async suspend(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.child = undefined;
    if (child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGINT');
    });
  }

  /**
   * A streaming replica of this cluster (a hot standby in its own folder, on its own port), made with
   * pg_basebackup. Databases created on this cluster later appear on it too. stop() it like any cluster.
   */
  async startReplica(): Promise<TestPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'almanac-pg-replica-'));
    if (this.user !== undefined) chownSync(dir, this.user.uid, this.user.gid);
    const backup = spawnSync(join(this.bin, 'pg_basebackup'), ['-D', join(dir, 'data'), '-R', '-X', 'stream', '-h', '127.0.0.1', '-p', String(this.port), '-U', SUPERUSER, '--no-sync', '--checkpoint=fast'], {
      encoding: 'utf8',
      ...(this.user === undefined ? {} : { uid: this.user.uid, gid: this.user.gid }),
      cwd: dir,
    });
    if (backup.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`pg_basebackup failed (${backup.status}): ${backup.stderr}${backup.error?.message ?? ''}`);
    }
    const replica = new TestPostgres(dir, this.bin, await freePort(), this.user);
    await replica.resume();
    process.once('exit', () => replica.child?.kill('SIGKILL'));
    return replica;
  }

  /**
   * Waits until this replica has replayed everything `primary` has written so far (bounded: 20 s):
   * up to its insert position, since the test clusters commit asynchronously.
   */
  async caughtUpWith(primary: TestPostgres): Promise<void> {
    const ask = async <T>(cluster: TestPostgres, sql: string, parameters: unknown[] = []): Promise<T | undefined> => {
      const client = new pg.Client({ connectionString: cluster.url('postgres') });
      await client.connect();
      try {
        return (await client.query<{ v: T }>(sql, parameters)).rows[0]?.v;
      } finally {
        await client.end();
      }
    };
    const target = await ask<string>(primary, 'SELECT pg_current_wal_insert_lsn()::text AS v');
    const deadline = Date.now() + 20_000;
    while ((await ask<boolean>(this, 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS v', [target])) !== true) {
      if (Date.now() > deadline) throw new Error(`the replica did not replay up to ${target} within 20 s`);
      await sleep(20);
    }
  }

  url(database: string): string {
    return `postgres://${SUPERUSER}@127.0.0.1:${this.port}/${database}`;
  }

  /** A new empty database; returns its connection URL. */
  async createDatabase(prefix = 'test'): Promise<string> {
    this.counter += 1;
    const name = `${prefix}_${process.pid}_${this.counter}`;
    const client = new pg.Client({ connectionString: this.url('postgres') });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${name}`);
    } finally {
      await client.end();
    }
    return this.url(name);
  }

  async dropDatabase(url: string): Promise<void> {
    const name = new URL(url).pathname.slice(1);
    const client = new pg.Client({ connectionString: this.url('postgres') });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await client.end();
    }
  }

  /** Stops the cluster and deletes its folder. */
  async stop(): Promise<void> {
    await this.suspend();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
