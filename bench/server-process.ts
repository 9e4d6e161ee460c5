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
  const server = await startBenchAlmanac({ dataDir: required('BENCH_DATA_DIR'), user: required('BENCH_USER'), password: required('BENCH_PASSWORD'), extraUsers });
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
  process.send({ url: server.url });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench server failed to start: ${String(error)}\n`);
  process.exit(1);
});
