// How a CLI command finds and opens the store: the same configuration layers as `serve`, so a
// command run beside a running server reaches the same data. The one place that picks a backend,
// so a --database option (PostgreSQL) only has to be added here and in the shared options.
import { loadConfig, type Config } from '../config/config.ts';
import { StoreUnavailable } from '../store/errors.ts';
import { currentReleaseIdentity } from '../release/identity.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import type { CliIo } from './io.ts';

/** The options every store-using command accepts. */
export interface StoreOptions {
  readonly data?: string;
  readonly config?: string;
}

export function storeConfig(options: StoreOptions, io: CliIo): Config {
  return loadConfig({ data: options.data }, io.env, options.config);
}

export function openStore(config: Config): Store {
  try {
    return SqliteStore.open({ dataDir: config.data, release: currentReleaseIdentity() });
  } catch (error) {
    if (error instanceof StoreUnavailable) throw error;
    throw new StoreUnavailable(`cannot open the store in ${config.data}: ${(error as Error).message}`, 1, { cause: error });
  }
}

/** Runs work against the configured store and always closes it, whatever happens. */
export async function withStore<T>(options: StoreOptions, io: CliIo, work: (store: Store) => Promise<T>): Promise<T> {
  const store = openStore(storeConfig(options, io));
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
