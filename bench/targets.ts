// The servers a suite runs against: an Almanac the bench starts (in-process, or forked into its own
// process) with a fresh data folder and its phone users, or any running server given by URL.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workerExecArgv, workerMallocEnv } from '../src/cli/supervisor.ts';
import { DEFAULTS } from '../src/config/config.ts';
import type { BenchServer } from './almanac-server.ts';
import { BenchFailure, type SuiteTarget } from './suite.ts';

export interface StoppableTarget extends SuiteTarget {
  stop(): Promise<void>;
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** VmRSS of a process in bytes, from /proc (Linux). */
export function processRss(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/u.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system, seconds) a process has used, from /proc/<pid>/stat (Linux, 100 ticks per
 * second as the kernel reports to user space). With it a scenario's server cost per request can be
 * compared across runs on a busy machine, where wall-clock throughput cannot.
 */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may contain spaces): utime is field 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** The phone users' names: phone-00, phone-01, … */
export function phoneUserName(index: number): string {
  return `phone-${String(index).padStart(2, '0')}`;
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

interface ForkedAlmanac extends BenchServer {
  readonly pid: number | undefined;
}

async function forkAlmanac(dataDir: string, user: string, password: string, extraUsers: readonly { name: string; password: string }[], createUsers = true): Promise<ForkedAlmanac> {
  const child = fork(new URL('./server-process.ts', import.meta.url), [], {
    // The memory settings `almanac serve` gives its workers, unless BENCH_SERVER_NODE_OPTIONS says otherwise.
    env: { ...process.env, ...workerMallocEnv(process.env), BENCH_DATA_DIR: dataDir, BENCH_USER: user, BENCH_PASSWORD: password, BENCH_EXTRA_USERS: JSON.stringify(extraUsers), BENCH_CREATE_USERS: createUsers ? '1' : '0' },
    // The child's stdout goes to our stderr: stdout carries only result lines.
    stdio: ['ignore', 2, 2, 'ipc'],
    execArgv: process.env.BENCH_SERVER_NODE_OPTIONS === undefined ? workerExecArgv(DEFAULTS, []) : process.env.BENCH_SERVER_NODE_OPTIONS.split(' ').filter((a) => a !== ''),
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new BenchFailure('the forked Almanac did not report its URL within 60 s')), 60_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      const reported = (message as { url?: unknown }).url;
      if (typeof reported === 'string') resolve(reported);
      else reject(new BenchFailure('the forked Almanac sent an unexpected message'));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new BenchFailure(`the forked Almanac exited with code ${String(code)} before reporting its URL`));
    });
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    url,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send('stop');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface AlmanacTargetOptions {
  readonly fork: boolean;
  readonly user: string;
  readonly password?: string | undefined;
  readonly phoneUsers: number;
  readonly name?: string;
  /** Forked nodes on the one PostgreSQL database in ALMANAC_DATABASE, driven round-robin (default 1). */
  readonly nodes?: number;
}

/** Starts Almanac on 127.0.0.1 with a fresh temporary data folder, removed again by stop(). */
export async function startAlmanacTarget(options: AlmanacTargetOptions): Promise<StoppableTarget> {
  const dataDir = mkdtempSync(join(tmpdir(), 'almanac-bench-'));
  const password = options.password ?? randomBytes(18).toString('base64url');
  const phones = Array.from({ length: options.phoneUsers }, (_, i) => ({ name: phoneUserName(i), password: randomBytes(12).toString('base64url') }));
  const removeDataDir = (): void => rmSync(dataDir, { recursive: true, force: true });
  let server: BenchServer;
  let pid: number | undefined;
  const others: ForkedAlmanac[] = [];
  const nodes = options.nodes ?? 1;
  if (nodes > 1 && (!options.fork || (process.env.ALMANAC_DATABASE ?? '') === '')) {
    throw new BenchFailure('--nodes needs forked servers on one PostgreSQL database (run it through bench/with-postgres.ts)');
  }
  try {
    if (options.fork) {
      const forked = await forkAlmanac(dataDir, options.user, password, phones);
      server = forked;
      pid = forked.pid;
      for (let node = 1; node < nodes; node++) others.push(await forkAlmanac(mkdtempSync(join(tmpdir(), 'almanac-bench-node-')), options.user, password, phones, false));
    } else {
      const { startBenchAlmanac } = await import('./almanac-server.ts');
      server = await startBenchAlmanac({ dataDir, user: options.user, password, extraUsers: phones });
      pid = process.pid;
    }
  } catch (error) {
    removeDataDir();
    throw error;
  }
  log(`started Almanac ${options.fork ? 'in a child process' : 'in-process'} at ${server.url} with data in ${dataDir}`);
  for (const other of others) log(`started another Almanac node on the same database at ${other.url}`);
  const pids = [pid, ...others.map((o) => o.pid)];
  const sum = (values: readonly (number | undefined)[]): number | undefined => (values.some((v) => v === undefined) ? undefined : values.reduce<number>((a, v) => a + (v ?? 0), 0));
  const user = encodeURIComponent(options.user);
  return {
    name: options.name ?? 'almanac',
    baseUrl: server.url,
    ...(others.length === 0 ? {} : { roundRobinUrls: [server.url, ...others.map((o) => o.url)] }),
    authorization: basicAuth(options.user, password),
    ownAlmanac: true,
    validate: true,
    calendarHome: `/calendars/${user}/`,
    addressbookHome: `/addressbooks/${user}/`,
    httpLoadLimit: Number.MAX_SAFE_INTEGER,
    phoneAccount: (index) => {
      const phone = phones[index];
      if (phone === undefined) throw new BenchFailure(`only ${phones.length} phone users were created`);
      return { authorization: basicAuth(phone.name, phone.password), calendar: `/calendars/${phone.name}/bench-phone/` };
    },
    // In-process, this is the benchmark's own process too (server and load generator together).
    // With several nodes: their sum.
    rssBytes: () => sum(pids.map(processRss)),
    cpuSeconds: () => sum(pids.map(processCpuSeconds)),
    stop: async () => {
      try {
        await Promise.all([server.stop(), ...others.map((o) => o.stop())]);
      } finally {
        removeDataDir();
      }
    },
  };
}

export interface ExternalTargetOptions {
  readonly url: string;
  readonly user: string;
  readonly password: string;
  readonly calendarHome: string;
  readonly addressbookHome: string;
  readonly name: string;
}

/** A server that is already running; the phone users become calendars bench-phone-NN of the one account. */
export function externalTarget(options: ExternalTargetOptions): StoppableTarget {
  const authorization = basicAuth(options.user, options.password);
  const home = options.calendarHome.endsWith('/') ? options.calendarHome : `${options.calendarHome}/`;
  return {
    name: options.name,
    baseUrl: options.url,
    authorization,
    ownAlmanac: false,
    validate: true,
    calendarHome: home,
    addressbookHome: options.addressbookHome,
    httpLoadLimit: Number.MAX_SAFE_INTEGER,
    phoneAccount: (index) => ({ authorization, calendar: `${home}bench-${phoneUserName(index)}/` }),
    stop: () => Promise.resolve(),
  };
}
