// `almanac serve`'s supervisor process (docs/operations.md, "Restarting without downtime"). It holds
// the data folder and runs the node in a worker process. Workers accept on one listening socket that
// node:cluster binds in this process and shares with every worker (SCHED_NONE: each worker accepts
// from the kernel's queue itself; this process never accepts). On SIGHUP (`almanac restart`) it
// starts a new worker and, only once that one reports ready, tells the old one to hand over: stop
// accepting, finish its requests and exit. The socket stays open throughout, so no connection
// waiting in its queue is ever refused or dropped. A new worker that cannot serve (an unexpected
// release on a schema too old for it) exits before it is ready and the old one keeps serving.
// Must not import the HTTP or DAV layers, nor open a store.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { isPostgresUrl } from '../store/open.ts';
import { claimDataDir } from '../store/sqlite/data-dir.ts';
import { ExitCode } from './exit-codes.ts';
import type { CliIo } from './io.ts';
import { removeStatus, writeStatus, type RestartOutcome } from './supervisor-status.ts';

/** Supervisor → worker. */
export interface SupervisorCommand {
  readonly almanac: 'hand-over' | 'stop';
}

/** Worker → supervisor. */
export type WorkerReport = { readonly almanac: 'ready'; readonly url: string } | { readonly almanac: 'failed'; readonly message: string };

function isReport(message: unknown): message is WorkerReport {
  return typeof message === 'object' && message !== null && 'almanac' in message;
}

function tell(worker: Worker, command: SupervisorCommand['almanac']): void {
  if (worker.isConnected()) worker.send({ almanac: command } satisfies SupervisorCommand);
}

// A worker that died while serving is replaced at once (until one is listening again the socket is
// closed and connections are refused); a replacement that fails waits this long, doubling up to the maximum.
const RESPAWN_MIN_MS = 500;
const RESPAWN_MAX_MS = 30_000;
// Beyond the configured grace, how long a stopping worker may take before it is killed.
const KILL_MARGIN_MS = 5_000;

/**
 * The worker's V8 flags: the supervisor's own, with the old-space limit of `workerHeapMb` (docs/
 * operations.md, "Memory"). V8 otherwise keeps the heap it grew to while building one large answer.
 */
export function workerExecArgv(config: Pick<Config, 'workerHeapMb'>, own: readonly string[]): string[] {
  const kept = own.filter((flag) => !flag.startsWith('--max-old-space-size'));
  return config.workerHeapMb > 0 ? [...kept, `--max-old-space-size=${config.workerHeapMb}`] : kept;
}

/**
 * glibc malloc settings for the workers, read only at process start: two arenas instead of one per
 * thread, and large blocks returned to the system when freed. An operator's own values win.
 */
export function workerMallocEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const defaults: Record<string, string> = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' };
  return Object.fromEntries(Object.entries(defaults).filter(([name]) => env[name] === undefined));
}

interface Started {
  readonly worker: Worker;
  /** Resolves with the URL once the worker serves; rejects with why it never will. */
  readonly ready: Promise<string>;
}

export class Supervisor {
  private readonly config: Config;
  private readonly io: CliIo;
  private readonly logger: Logger;
  private current: Worker | undefined;
  private url: string | undefined;
  private restart: RestartOutcome = { attempt: 0, state: 'none', message: '', at: new Date().toISOString() };
  private restarting = false;
  private restartAgain = false;
  private stopping = false;
  private respawnDelay = 0;
  private respawnTimer: NodeJS.Timeout | undefined;

  constructor(config: Config, io: CliIo, logger: Logger, workerArgs: readonly string[]) {
    this.config = config;
    this.io = io;
    this.logger = logger;
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    // stdout stays the supervisor's (the announcement line); workers log to the shared stderr.
    cluster.setupPrimary({ args: [...workerArgs], execArgv: workerExecArgv(config, process.execArgv), stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  }

  /** Runs until SIGTERM/SIGINT has stopped every worker; resolves to the exit code. */
  async run(): Promise<number> {
    // A SQLite folder belongs to one server (its workers included); a PostgreSQL database is shared.
    const releaseDir = isPostgresUrl(this.config.database) ? () => undefined : claimDataDir(this.config.data);
    const first = this.startWorker();
    let settle: (code: number) => void = () => undefined;
    const done = new Promise<number>((resolve) => (settle = resolve));
    const onStop = (signal: NodeJS.Signals): void => {
      if (this.stopping) {
        this.logger.warn({ signal }, 'second signal: killing workers without waiting for requests');
        for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
        settle(ExitCode.failure);
        return;
      }
      this.logger.info({ signal }, 'shutting down: workers drain their requests');
      void this.stopAll().then(settle);
    };
    const onHangUp = (): void => void this.restartWorker();
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    try {
      try {
        this.url = await first.ready;
      } catch {
        // The worker has said why on stderr.
        return ExitCode.failure;
      }
      this.adopt(first.worker);
      this.writeStatus();
      process.on('SIGHUP', onHangUp);
      this.io.stdout(`Almanac listening on ${this.url}\n`);
      return await done;
    } finally {
      process.off('SIGTERM', onStop);
      process.off('SIGINT', onStop);
      process.off('SIGHUP', onHangUp);
      removeStatus(this.config.data, process.pid);
      releaseDir();
    }
  }

  private startWorker(): Started {
    const worker = cluster.fork(workerMallocEnv(process.env));
    const ready = new Promise<string>((resolve, reject) => {
      let failure: string | undefined;
      const onMessage = (message: unknown): void => {
        if (!isReport(message)) return;
        if (message.almanac === 'ready') {
          worker.off('exit', onExit);
          worker.off('message', onMessage);
          resolve(message.url);
        } else {
          failure = message.message;
        }
      };
      const onExit = (code: number | null, signal: string | null): void => {
        worker.off('message', onMessage);
        reject(new Error(failure ?? `the worker exited before it was ready (${signal ?? `code ${code}`})`));
      };
      worker.on('message', onMessage);
      worker.once('exit', onExit);
    });
    return { worker, ready };
  }

  /** Makes worker the serving one, replacing it if it dies while serving. */
  private adopt(worker: Worker): void {
    this.current = worker;
    worker.once('exit', (code, signal) => {
      if (this.current !== worker || this.stopping) return;
      this.current = undefined;
      this.logger.error({ pid: worker.process.pid, code, signal }, `the serving worker died; starting another in ${this.respawnDelay} ms`);
      this.scheduleRespawn();
    });
  }

  private async respawn(): Promise<void> {
    if (this.stopping || this.current !== undefined) return;
    const next = this.startWorker();
    try {
      this.url = await next.ready;
      this.respawnDelay = 0;
      this.adopt(next.worker);
      this.writeStatus();
    } catch (error) {
      this.logger.error({ err: error }, `a replacement worker could not start; trying again in ${this.respawnDelay} ms`);
      this.scheduleRespawn();
    }
  }

  /**
   * Not unref'd: with the worker dead, this timer is all that keeps the supervisor alive — an unref'd
   * one let it exit (code 13, main() unsettled) at the first kill -9 of its worker. stopAll clears it.
   */
  private scheduleRespawn(): void {
    this.respawnTimer = setTimeout(() => {
      this.respawnTimer = undefined;
      void this.respawn();
    }, this.respawnDelay);
    this.respawnDelay = Math.min(Math.max(RESPAWN_MIN_MS, this.respawnDelay * 2), RESPAWN_MAX_MS);
  }

  /** SIGHUP: a new worker takes over once ready; until then, and if it never is, the old one serves. */
  private async restartWorker(): Promise<void> {
    if (this.stopping) return;
    if (this.restarting) {
      this.restartAgain = true;
      return;
    }
    this.restarting = true;
    const attempt = this.restart.attempt + 1;
    this.record({ attempt, state: 'running', message: 'starting a new worker', at: new Date().toISOString() });
    const old = this.current;
    this.logger.info({ attempt, oldPid: old?.process.pid }, 'restart: starting a new worker');
    const next = this.startWorker();
    try {
      this.url = await next.ready;
      if (this.stopping) {
        tell(next.worker, 'stop');
        return;
      }
      this.adopt(next.worker);
      if (old !== undefined) this.retire(old);
      const message = `worker ${next.worker.process.pid} serves ${this.url}${old === undefined ? '' : `; worker ${old.process.pid} is handing over`}`;
      this.logger.info({ attempt, pid: next.worker.process.pid, oldPid: old?.process.pid }, `restart: ${message}`);
      this.record({ attempt, state: 'done', message, at: new Date().toISOString() });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const message = `the new worker could not start, so the running one keeps serving: ${reason}`;
      this.logger.error({ attempt, oldPid: old?.process.pid }, `restart failed: ${message}`);
      this.record({ attempt, state: 'failed', message, at: new Date().toISOString() });
    } finally {
      this.restarting = false;
      if (this.restartAgain) {
        this.restartAgain = false;
        void this.restartWorker();
      }
    }
  }

  /** Tells a worker to hand over, and kills it if it has not exited well after its grace. */
  private retire(worker: Worker): void {
    tell(worker, 'hand-over');
    const timer = setTimeout(() => {
      this.logger.warn({ pid: worker.process.pid }, 'a retired worker did not exit in time; killing it');
      worker.process.kill('SIGKILL');
    }, this.config.shutdownGraceMs + KILL_MARGIN_MS);
    timer.unref();
    worker.once('exit', () => clearTimeout(timer));
  }

  private async stopAll(): Promise<number> {
    this.stopping = true;
    clearTimeout(this.respawnTimer);
    const workers = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);
    const codes = await Promise.all(
      workers.map(
        (worker) =>
          new Promise<number>((resolve) => {
            if (worker.process.exitCode !== null) {
              resolve(worker.process.exitCode);
              return;
            }
            const timer = setTimeout(() => worker.process.kill('SIGKILL'), this.config.shutdownGraceMs + KILL_MARGIN_MS);
            worker.once('exit', (code) => {
              clearTimeout(timer);
              resolve(code ?? ExitCode.failure);
            });
            tell(worker, 'stop');
          }),
      ),
    );
    this.logger.info('stopped');
    return codes.every((code) => code === 0) ? ExitCode.ok : ExitCode.failure;
  }

  private record(outcome: RestartOutcome): void {
    this.restart = outcome;
    this.writeStatus();
  }

  private writeStatus(): void {
    writeStatus(this.config.data, { pid: process.pid, workerPid: this.current?.process.pid, url: this.url, restart: this.restart });
  }
}
