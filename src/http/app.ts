// Wires one Almanac node together from its configuration: the store, the authenticator, the DAV
// server with its plugins, metrics, logging and the HTTP front end. The CLI's `serve` and the tests
// both start the server through here.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import pino, { type Logger } from 'pino';
import { aclPlugin } from '../acl/plugin.ts';
import { Authenticator } from '../auth/authenticator.ts';
import { createCaldavPlugin } from '../caldav/plugin.ts';
import { createCarddavPlugin } from '../carddav/plugin.ts';
import type { Config } from '../config/config.ts';
import { filesPlugin } from '../dav/files-space.ts';
import { DavServer } from '../dav/server.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { openConfiguredStore } from '../store/open.ts';
import type { ReleaseStore } from '../store/release-store.ts';
import { startChangePruner } from '../sync/pruner.ts';
import { syncPlugin } from '../sync/plugin.ts';
import { currentReleaseIdentity } from '../release/identity.ts';
import type { Store } from '../store/store.ts';
import type { UserRecord } from '../store/types.ts';
import { sendAlarmWebhook, type AlarmPayload } from './alarm-webhook.ts';
import { startBackgroundBackfill, type BackgroundBackfill } from './backfill-node.ts';
import { HttpFrontend } from './http-server.ts';
import { HttpMetrics } from './metrics.ts';

export interface RunningAlmanac {
  readonly url: string;
  readonly store: Store;
  readonly dav: DavServer;
  readonly logger: Logger;
  /** The backfills running in the background of this node, when its release has any pending. */
  readonly backfill: BackgroundBackfill | undefined;
  /** Graceful stop: drain requests, then close the store. */
  stop(): Promise<void>;
  /** Stop for a restart, while another process accepts on the same socket (see HttpFrontend.drain). */
  handOver(): Promise<void>;
}

export interface StartOptions {
  /** Set when a supervisor (src/cli/supervisor.ts) holds the data folder for this worker. */
  readonly supervisorPid?: number;
}

export class UnexpectedRelease extends Error {
  override readonly name = 'UnexpectedRelease';
}

function approvalHint(): string {
  const { version } = currentReleaseIdentity();
  return `If this release is intended, rehearse it and approve it: almanac release expect ${version} --approved-by NAME`;
}

function releaseAlarmPayload(reason: string): AlarmPayload {
  const { version } = currentReleaseIdentity();
  return { alarm: 'unexpected-release', reason, version, host: hostname(), pid: process.pid, resolve: `almanac release expect ${version} --approved-by NAME`, at: new Date().toISOString() };
}

const WEBHOOK_REPEAT_MS = 3_600_000;

/**
 * DESIGN.md §6: an unexpected release says so loudly and keeps saying it: a fatal log line every
 * minute, and the webhook (if configured) now and every hour, so a missed delivery is not the end of it.
 */
function raiseReleaseAlarm(reason: string, config: Config, logger: Logger, metrics: HttpMetrics): { stop(): void } {
  metrics.unexpectedRelease.set(1);
  const shout = (): void => logger.fatal({ alarm: 'unexpected-release', reason }, `UNEXPECTED RELEASE: ${reason}. No schema change was made; serving on the existing schema. ${approvalHint()}`);
  shout();
  const timers = [setInterval(shout, 60_000)];
  const stopping = new AbortController();
  if (config.alarmWebhook !== '') {
    const notify = (): void => void sendAlarmWebhook(config.alarmWebhook, releaseAlarmPayload(reason), logger, { signal: stopping.signal });
    notify();
    timers.push(setInterval(notify, WEBHOOK_REPEAT_MS));
  }
  for (const timer of timers) timer.unref();
  return {
    stop: () => {
      for (const timer of timers) clearInterval(timer);
      stopping.abort();
    },
  };
}

const HEARTBEAT_MS = 15_000;

/** Keeps this node in the database's registry while it serves, and removes it on a clean stop. */
function startHeartbeat(store: ReleaseStore, logger: Logger, id: string): { stop(): Promise<void> } {
  const identity = currentReleaseIdentity();
  const startedAt = Date.now();
  const beat = (): void => {
    store
      .heartbeat({ ...identity, id, host: hostname(), pid: process.pid, startedAt, heartbeatAt: Date.now() })
      .catch((error: unknown) => logger.warn({ err: error }, 'node heartbeat failed; will retry'));
  };
  beat();
  const timer = setInterval(beat, HEARTBEAT_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await store.forgetNode(id).catch(() => undefined);
    },
  };
}

export function createLogger(config: Pick<Config, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  return pino({ level: config.logLevel, base: { service: 'almanac' }, redact: ['req.headers.authorization'] }, destination);
}

export function buildDavServer(store: Store, config: Config, logger: Logger): DavServer {
  // The user's record comes with the credentials every request reads, so the request needs no second read.
  const authenticator = new Authenticator<UserRecord>({
    lookup: async (name) => {
      const found = await store.lookupAccount(name);
      return found === null ? null : { ...found, account: found.user };
    },
  });
  return new DavServer({
    store,
    authenticate: (authorization, address) => authenticator.authenticate(authorization, address),
    plugins: [aclPlugin, createCaldavPlugin(config), createCarddavPlugin(config), syncPlugin, filesPlugin],
    settings: { maxResourceSize: config.maxResourceSize },
    logger,
    realm: config.realm,
  });
}

export async function startAlmanac(config: Config, logger: Logger = createLogger(config), options: StartOptions = {}): Promise<RunningAlmanac> {
  const opened = await openConfiguredStore(config, {
    release: currentReleaseIdentity(),
    claim: true,
    ...(options.supervisorPid === undefined ? {} : { supervisorPid: options.supervisorPid }),
    onConnectionError: (error) => logger.warn({ err: error }, 'an idle database connection broke; it will be replaced'),
    log: { error: (fields, message) => logger.error(fields, message) },
  });
  const store = opened.store;
  const guard = store.releaseGuard();
  for (const step of store instanceof SqliteStore ? store.expandedAtOpen : []) {
    logger.info({ migration: `${step.version}-${step.name}`, phase: 'expand', lockMs: Number(step.lockMs.toFixed(2)) }, 'expand migration applied');
  }
  if (!guard.canServe) {
    // Not ready means never binding the port, so the node already serving keeps all the traffic.
    await opened.close();
    const reason = `${guard.unexpected ?? 'unexpected release'}; the schema (version ${guard.schemaVersion}) is too old for this release, which may run no DDL`;
    // The node exits after this, so the webhook gets two quick tries rather than the hourly repeats.
    if (config.alarmWebhook !== '') await sendAlarmWebhook(config.alarmWebhook, releaseAlarmPayload(reason), logger, { attempts: 2, backoffMs: () => 1_000 });
    throw new UnexpectedRelease(`${reason}. ${approvalHint()}`);
  }
  const dav = buildDavServer(store, config, logger);
  const metrics = new HttpMetrics();
  const frontend = new HttpFrontend(config, { dav, store, logger, metrics });
  const alarm = guard.unexpected === undefined ? undefined : raiseReleaseAlarm(guard.unexpected, config, logger, metrics);
  let address;
  try {
    address = await frontend.listen();
  } catch (error) {
    alarm?.stop();
    await opened.close();
    throw error;
  }
  const pruner = startChangePruner(store, config, logger);
  const nodeId = randomUUID();
  const node = startHeartbeat(store, logger, nodeId);
  // Backfills run only for an expected release, after its expand phase ran at open (DESIGN.md §6);
  // on PostgreSQL every node starts a runner and the claim in the database lets only one run.
  const backfill = guard.unexpected === undefined ? startBackgroundBackfill(store, metrics, logger, nodeId) : undefined;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const stop = async (mode: 'shutdown' | 'handover'): Promise<void> => {
    alarm?.stop();
    await backfill?.stop();
    await node.stop();
    pruner.stop();
    await frontend.drain(config.shutdownGraceMs, mode);
    await pruner.idle();
    await opened.close();
  };
  return {
    url: `http://${host}:${address.port}/`,
    store,
    dav,
    logger,
    backfill,
    stop: () => stop('shutdown'),
    handOver: () => stop('handover'),
  };
}
