// How a CLI command finds and opens the store: the same configuration layers as `serve`, so a
// command run beside a running server reaches the same data: --database (PostgreSQL) or --data
// (SQLite), chosen in store/open.ts.
import { loadConfig, type Config } from '../config/config.ts';
import { StoreUnavailable } from '../store/errors.ts';
import { currentReleaseIdentity } from '../release/identity.ts';
import { openConfiguredStore, type OpenedStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import type { CliIo } from './io.ts';

/** The options every store-using command accepts. */
export interface StoreOptions {
  readonly data?: string;
  readonly database?: string;
  readonly config?: string;
}

export function storeConfig(options: StoreOptions, io: CliIo): Config {
  return loadConfig({ data: options.data, database: options.database }, io.env, options.config);
}

export async function openStore(config: Config): Promise<OpenedStore> {
  try {
    return await openConfiguredStore(config, { release: currentReleaseIdentity() });
  } catch (error) {
    if (error instanceof StoreUnavailable) throw error;
    const where = config.database === '' ? config.data : 'the configured PostgreSQL database';
    throw new StoreUnavailable(`cannot open the store in ${where}: ${(error as Error).message}`, 1, { cause: error });
  }
}

/** Runs work against the configured store and always closes it, whatever happens. */
export async function withStore<T>(options: StoreOptions, io: CliIo, work: (store: Store) => Promise<T>): Promise<T> {
  const opened = await openStore(storeConfig(options, io));
  try {
    return await work(opened.store);
  } finally {
    await opened.close();
  }
}
