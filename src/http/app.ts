// Wires one Almanac node together from its configuration: the store, the authenticator, the DAV
// server with its plugins, metrics, logging and the HTTP front end. The CLI's `serve` and the tests
// both start the server through here.
import pino, { type Logger } from 'pino';
import { aclPlugin } from '../acl/plugin.ts';
import { Authenticator } from '../auth/authenticator.ts';
import { createCaldavPlugin } from '../caldav/plugin.ts';
import { createCarddavPlugin } from '../carddav/plugin.ts';
import type { Config } from '../config/config.ts';
import { filesPlugin } from '../dav/files-space.ts';
import { DavServer } from '../dav/server.ts';
import { claimDataDir } from '../store/sqlite/data-dir.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { startChangePruner } from '../sync/pruner.ts';
import { syncPlugin } from '../sync/plugin.ts';
import type { Store } from '../store/store.ts';
import { HttpFrontend } from './http-server.ts';
import { HttpMetrics } from './metrics.ts';

export interface RunningAlmanac {
  readonly url: string;
  readonly store: Store;
  readonly dav: DavServer;
  readonly logger: Logger;
  /** Graceful stop: drain requests, then close the store. */
  stop(): Promise<void>;
}

export function createLogger(config: Pick<Config, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  return pino({ level: config.logLevel, base: { service: 'almanac' }, redact: ['req.headers.authorization'] }, destination);
}

export function buildDavServer(store: Store, config: Config, logger: Logger): DavServer {
  const authenticator = new Authenticator({ lookup: (name) => store.lookupCredentials(name) });
  return new DavServer({
    store,
    authenticate: (authorization, address) => authenticator.authenticate(authorization, address),
    plugins: [aclPlugin, createCaldavPlugin(config), createCarddavPlugin(config), syncPlugin, filesPlugin],
    settings: { maxResourceSize: config.maxResourceSize },
    logger,
    realm: config.realm,
  });
}

export async function startAlmanac(config: Config, logger: Logger = createLogger(config)): Promise<RunningAlmanac> {
  const release = claimDataDir(config.data);
  let store: SqliteStore;
  try {
    store = SqliteStore.open({ dataDir: config.data });
  } catch (error) {
    release();
    throw error;
  }
  const dav = buildDavServer(store, config, logger);
  const frontend = new HttpFrontend(config, { dav, store, logger, metrics: new HttpMetrics() });
  let address;
  try {
    address = await frontend.listen();
  } catch (error) {
    await store.close();
    release();
    throw error;
  }
  const pruner = startChangePruner(store, config, logger);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/`,
    store,
    dav,
    logger,
    stop: async () => {
      pruner.stop();
      await frontend.drain(config.shutdownGraceMs);
      await pruner.idle();
      await store.close();
      release();
    },
  };
}
