// The background job that prunes the change log: tombstones and superseded entries older than the
// retention period (default 90 days) go, in short batches; tokens from before a pruned deletion are
// then refused with valid-sync-token, so clients resync instead of missing it.
import type { Store } from '../store/store.ts';

export interface PrunerSettings {
  readonly tombstoneRetentionDays: number;
  readonly pruneIntervalMs: number;
}

interface PrunerLogger {
  info(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface ChangePruner {
  stop(): void;
  /** Resolves when no pruning pass is running. */
  idle(): Promise<void>;
  /** Runs one pass now (tests, and the first pass after start). */
  runOnce(): Promise<number>;
}

export function startChangePruner(store: Store, settings: PrunerSettings, logger: PrunerLogger, now: () => number = Date.now): ChangePruner {
  let running: Promise<number> | undefined;
  let stopped = false;
  const runOnce = (): Promise<number> => {
    if (running !== undefined) return running;
    const cutoff = now() - settings.tombstoneRetentionDays * 86_400_000;
    running = store
      .pruneChanges(cutoff)
      .then(({ removed }) => {
        if (removed > 0) logger.info({ removed, cutoff: new Date(cutoff).toISOString() }, 'pruned change log');
        return removed;
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'change log pruning failed; will retry');
        return 0;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => {
    if (!stopped) void runOnce();
  }, settings.pruneIntervalMs);
  timer.unref();
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
    idle: async () => {
      await running;
    },
    runOnce,
  };
}
