// Starts an Almanac for benchmarking: 127.0.0.1 on a free port, the given data folder (or the
// PostgreSQL database in ALMANAC_DATABASE, see with-postgres.ts), warnings logged to stderr (stdout
// carries the results), and its users created directly in the store.
import pino from 'pino';
import { hashPassword } from '../src/auth/passwords.ts';
import { DEFAULTS, type Config } from '../src/config/config.ts';
import { createLogger, startAlmanac } from '../src/http/app.ts';

export interface BenchServer {
  /** Origin with a trailing slash, e.g. http://127.0.0.1:40123/ */
  readonly url: string;
  stop(): Promise<void>;
}

export interface BenchServerOptions {
  readonly dataDir: string;
  readonly user: string;
  readonly password: string;
  /** More accounts (the phone workload's users). */
  readonly extraUsers?: readonly { readonly name: string; readonly password: string }[];
  /** False for a second node on the same PostgreSQL database: the first one created the accounts. */
  readonly createUsers?: boolean;
}

export async function startBenchAlmanac(options: BenchServerOptions): Promise<BenchServer> {
  const config: Config = { ...DEFAULTS, host: '127.0.0.1', port: 0, data: options.dataDir, database: process.env.ALMANAC_DATABASE ?? '', logLevel: 'warn' };
  const running = await startAlmanac(config, createLogger(config, pino.destination({ dest: 2, sync: true })));
  try {
    const users = options.createUsers === false ? [] : [{ name: options.user, password: options.password }, ...(options.extraUsers ?? [])];
    for (const user of users) {
      await running.store.createUser({ name: user.name, email: `${user.name}@bench.invalid`, displayName: user.name, passwordHash: await hashPassword(user.password) });
    }
  } catch (error) {
    await running.stop();
    throw error;
  }
  return { url: running.url, stop: () => running.stop() };
}
