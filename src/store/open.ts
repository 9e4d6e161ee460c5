// The one place that turns the configuration into a store: SQLite in the data folder (claimed by a
// serving process, so two servers never share one file), or PostgreSQL at `database` (shared by any
// number of nodes, so nothing is claimed). Must not import DAV or HTTP.
import type { ReleaseIdentity, ReleaseStore } from './release-store.ts';
import { PostgresStore } from './postgres/postgres-store.ts';
import type { StoreLog } from './postgres/transactions.ts';
import { claimDataDir } from './sqlite/data-dir.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

export interface StoreLocation {
  /** SQLite's folder. */
  readonly data: string;
  /** Empty for SQLite; a postgres:// URL for PostgreSQL. */
  readonly database: string;
  /** PostgreSQL only, optional: a streaming replica of `database` for queries and multigets. */
  readonly databaseReplica?: string;
}

export interface OpenedStore {
  readonly store: Store & ReleaseStore;
  /** Closes the store and releases the data folder when it was claimed. */
  close(): Promise<void>;
}

export function isPostgresUrl(database: string): boolean {
  return /^postgres(?:ql)?:\/\//u.test(database);
}

export async function openConfiguredStore(
  location: StoreLocation,
  options: {
    readonly release?: ReleaseIdentity;
    readonly claim?: boolean;
    /** A supervisor's worker: the supervisor holds the folder for it (data-dir.ts). */
    readonly supervisorPid?: number;
    readonly onConnectionError?: (error: Error) => void;
    /** PostgreSQL: where a write of unknown outcome (COMMIT lost its connection) is reported. */
    readonly log?: StoreLog;
  } = {},
): Promise<OpenedStore> {
  if (isPostgresUrl(location.database)) {
    const store = await PostgresStore.open({
      url: location.database,
      ...(options.release === undefined ? {} : { release: options.release }),
      ...(options.onConnectionError === undefined ? {} : { onConnectionError: options.onConnectionError }),
      ...(options.log === undefined ? {} : { log: options.log }),
      ...(location.databaseReplica === undefined || location.databaseReplica === '' ? {} : { replicaUrl: location.databaseReplica }),
    });
    return { store, close: () => store.close() };
  }
  const unclaim = options.claim === true ? claimDataDir(location.data, options.supervisorPid) : () => undefined;
  let store: SqliteStore;
  try {
    store = SqliteStore.open({ dataDir: location.data, ...(options.release === undefined ? {} : { release: options.release }) });
  } catch (error) {
    unclaim();
    throw error;
  }
  return {
    store,
    close: async () => {
      await store.close();
      unclaim();
    },
  };
}
