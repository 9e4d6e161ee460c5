// Starts a real `almanac serve` process (from the sources) on a free loopback port with a fresh data
// folder, creating accounts through the real CLI first — the way interop clients meet the server.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readStatus } from '../../src/cli/supervisor-status.ts';
import { testDatabaseUrl } from './test-store.ts';

const ENTRY = fileURLToPath(new URL('./cli-entry.ts', import.meta.url));

export interface ServerProcess {
  readonly url: string;
  readonly dataDir: string;
  /** The flags that point a CLI command at this server's store (`--data`, and `--database` on PostgreSQL). */
  readonly storeArgs: readonly string[];
  /** The PostgreSQL URL when the server runs on PostgreSQL. */
  readonly database: string | undefined;
  readonly child: ChildProcess;
  /** The pid of the process serving requests: the supervisor's current worker (`serve` runs a supervisor). */
  servingPid(): number | undefined;
  /** Everything the server (supervisor and workers) wrote to stderr so far. */
  stderr(): string;
  /** Sends SIGTERM and resolves with the exit code once the process has drained and exited. */
  stop(): Promise<number | null>;
}

export function runCli(args: readonly string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ENTRY, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

export async function startServerProcess(
  users: readonly { name: string; password: string }[],
  options: { readonly dataDir?: string; readonly keepData?: boolean; readonly database?: string; readonly entry?: string; readonly logLevel?: string; readonly port?: number } = {},
): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'almanac-interop-'));
  const cleanUp = (): void => {
    if (options.keepData !== true) rmSync(dataDir, { recursive: true, force: true });
  };
  // With a PostgreSQL URL, several processes may share one database: the store is chosen there.
  // Without one, ALMANAC_TEST_STORE=postgres gives each server a fresh database (see test-store.ts).
  const database = options.database ?? (await testDatabaseUrl());
  const store = database === undefined ? ['--data', dataDir] : ['--data', dataDir, '--database', database];
  for (const user of users) {
    const result = await runCli(['user', 'add', user.name, '--password-stdin', ...store], `${user.password}\n`);
    if (result.code !== 0) throw new Error(`user add ${user.name} failed: ${result.stderr}`);
  }
  const child = spawn(process.execPath, [options.entry ?? ENTRY, 'serve', '--host', '127.0.0.1', '--port', String(options.port ?? 0), ...store, '--log-level', options.logLevel ?? 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`server did not start within 20 s: ${stderr}`)), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /Almanac listening on (http:\/\/\S+)/u.exec(stdout);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${stderr}`));
    });
  });
  return {
    url,
    dataDir,
    storeArgs: store,
    database,
    child,
    stderr: () => stderr,
    servingPid: () => readStatus(dataDir)?.workerPid ?? child.pid,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) {
          cleanUp();
          resolve(child.exitCode);
          return;
        }
        child.once('exit', (code) => {
          cleanUp();
          resolve(code);
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Whether interop tests must run (CI) or may skip when a client program is not installed. */
export function interopRequired(): boolean {
  return process.env.ALMANAC_REQUIRE_INTEROP === '1';
}
