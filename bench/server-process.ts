// Child-process entry for `run.ts --fork` and peers.ts: runs the bench Almanac in its own process (so
// the load generator does not share its event loop), reports the URL over IPC and stops when told to
// or when the parent goes away. Settings come from BENCH_* environment variables set by targets.ts.
import { startBenchAlmanac } from './almanac-server.ts';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set (this file is started by bench/run.ts --fork)`);
  return value;
}

async function main(): Promise<void> {
  if (process.send === undefined) throw new Error('bench/server-process.ts must be started with an IPC channel (bench/run.ts --fork)');
  const extraUsers = JSON.parse(process.env.BENCH_EXTRA_USERS ?? '[]') as { name: string; password: string }[];
  const server = await startBenchAlmanac({ dataDir: required('BENCH_DATA_DIR'), user: required('BENCH_USER'), password: required('BENCH_PASSWORD'), extraUsers, createUsers: process.env.BENCH_CREATE_USERS !== '0' });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void server.stop().finally(() => process.exit(0));
  };
  process.on('message', (message) => {
    if (message === 'stop') stop();
  });
  process.on('disconnect', stop);
  // BENCH_MEMORY_LOG_MS: the server's memory (RSS, V8 heap, off-heap buffers) on stderr at that interval.
  const memoryLogMs = Number(process.env.BENCH_MEMORY_LOG_MS ?? 0);
  if (memoryLogMs > 0) {
    const mb = (bytes: number): string => (bytes / 1048576).toFixed(0);
    setInterval(() => {
      const m = process.memoryUsage();
      process.stderr.write(`[memory] rss ${mb(m.rss)} heapUsed ${mb(m.heapUsed)} heapTotal ${mb(m.heapTotal)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)} MB\n`);
    }, memoryLogMs).unref();
  }
  process.send({ url: server.url });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench server failed to start: ${String(error)}\n`);
  process.exit(1);
});
