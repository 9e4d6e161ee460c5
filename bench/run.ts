// `npm run bench`: seeds calendars of several sizes, an address book and many users' phone calendars
// over HTTP and measures the requests clients make (suite.ts), against an Almanac it starts itself
// (in its own process by default, or --in-process) or any running CalDAV server (--url). One JSON line
// per scenario on stdout, progress on stderr; the exit code is non-zero when any request failed, an
// answer was wrong or a check did not hold.
import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { positive, SUITE_FLAGS, SUITE_USAGE, suiteFlags } from './options.ts';
import { benchCalendar, benchContacts, benchPhones, BenchFailure, type SuiteContext } from './suite.ts';
import { externalTarget, startAlmanacTarget, type StoppableTarget } from './targets.ts';

const USAGE = `usage: node bench/run.ts ${SUITE_USAGE}
      [--in-process] [--url URL --user U --password P [--calendar-home PATH] [--addressbook-home PATH] [--server-name NAME]]
      [--nodes N]   (through bench/with-postgres.ts: N nodes on one PostgreSQL database, requests sent round-robin)`;

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    allowPositionals: false,
    options: {
      ...SUITE_FLAGS,
      // Almanac runs in a child process unless asked otherwise: checking every answer costs the load
      // generator real CPU, which an in-process server would share one event loop with.
      fork: { type: 'boolean', default: false },
      'in-process': { type: 'boolean', default: false },
      url: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      'calendar-home': { type: 'string' },
      'addressbook-home': { type: 'string' },
      'server-name': { type: 'string' },
      nodes: { type: 'string' },
    },
  });
  if (values.help) {
    log(USAGE);
    return 0;
  }
  const { sizes, parts, suite } = suiteFlags(values, { sizes: [1000, 10_000], quickSizes: [200, 1000], adaptive: false, requestTimeoutMs: 60_000 });
  const user = values.user ?? 'bench';
  let target: StoppableTarget;
  if (values.url !== undefined) {
    if (values.password === undefined || values.user === undefined) throw new BenchFailure('--url needs --user and --password of an existing account');
    if (values.fork || values['in-process']) throw new BenchFailure('--fork and --in-process start a server of their own; they cannot be combined with --url');
    target = externalTarget({
      url: values.url,
      user,
      password: values.password,
      calendarHome: values['calendar-home'] ?? `/calendars/${encodeURIComponent(user)}/`,
      addressbookHome: values['addressbook-home'] ?? `/addressbooks/${encodeURIComponent(user)}/`,
      name: values['server-name'] ?? 'external',
    });
  } else {
    if (values.fork && values['in-process']) throw new BenchFailure('--fork and --in-process exclude each other');
    const nodes = positive('nodes', values.nodes, 1);
    target = await startAlmanacTarget({ fork: !values['in-process'], user, password: values.password, phoneUsers: parts.has('phone') ? suite.phoneUsers : 0, name: values['server-name'] ?? (nodes > 1 ? `almanac×${nodes}` : 'almanac'), nodes });
  }

  const abort = new AbortController();
  const interrupt = (): void => {
    log('interrupted: finishing requests in flight, then cleaning up');
    abort.abort();
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  const started = performance.now();
  // One-off requests (setup, checks) get a fresh connection each (see peers.ts).
  const agent = new Agent({ keepAlive: false, maxSockets: 1 });
  const context: SuiteContext = {
    target,
    options: suite,
    signal: abort.signal,
    agent,
    emit: (line) => process.stdout.write(`${JSON.stringify(line)}\n`),
    log,
  };
  let errors = 0;
  try {
    if (parts.has('calendar')) for (const size of sizes) errors += await benchCalendar(context, size);
    if (parts.has('contacts')) errors += await benchContacts(context);
    if (parts.has('phone')) errors += await benchPhones(context);
  } finally {
    agent.destroy();
    await target.stop();
  }
  log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s${errors > 0 ? ` with ${errors} failed requests or wrong answers` : ''}`);
  return errors > 0 ? 1 : 0;
}

void main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log(error instanceof BenchFailure ? `bench failed: ${error.message}` : `bench crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
