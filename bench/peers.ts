// `npm run bench:peers`: the same seeded data and the same checked scenarios (suite.ts) against
// Almanac (forked), Radicale, Xandikos, sabre/dav and a node:http ceiling that replays Almanac's own
// answers, one server after the other on 127.0.0.1; prints a table of ops/s and p50/p99 per scenario
// and server with Almanac's ratio to each peer and its share of the ceiling, and writes it into
// docs/performance.md with the date, the machine and the exact command.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { availableParallelism, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Recording, startCeiling } from './ceiling.ts';
import { SUITE_FLAGS, SUITE_USAGE, positive, suiteFlags, type ParsedSuiteFlags } from './options.ts';
import { startPeer, type PeerName } from './peer-servers.ts';
import { benchCalendar, benchContacts, benchPhones, BenchFailure, failedLine, type ResultLine, type SuiteContext } from './suite.ts';
import { startAlmanacTarget, type StoppableTarget } from './targets.ts';

type ServerName = 'almanac' | PeerName | 'ceiling';
const ALL_SERVERS: readonly ServerName[] = ['almanac', 'ceiling', 'radicale', 'xandikos', 'sabredav'];
const TITLES: Readonly<Record<ServerName, string>> = { almanac: 'Almanac', radicale: 'Radicale', xandikos: 'Xandikos', sabredav: 'sabre/dav', ceiling: 'node:http ceiling' };
const PACKAGES: Readonly<Partial<Record<ServerName, string>>> = { radicale: 'radicale', xandikos: 'xandikos', sabredav: 'php-sabre-dav' };

const USAGE = `usage: node bench/peers.ts ${SUITE_USAGE}
      [--servers almanac,ceiling,radicale,xandikos,sabredav] [--http-load-limit 2000]
      [--docs docs/performance.md | --no-docs]`;

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

// ---- running one server ----------------------------------------------------------------------------

async function runServer(target: StoppableTarget, flags: ParsedSuiteFlags, signal: AbortSignal, lines: ResultLine[]): Promise<void> {
  // One-off requests (setup, checks) are far apart: a fresh connection each, so none is sent on a
  // kept-alive socket the server is just closing for idleness.
  const agent = new Agent({ keepAlive: false, maxSockets: 1 });
  const context: SuiteContext = {
    target,
    options: flags.suite,
    signal,
    agent,
    emit: (line) => {
      lines.push(line);
      process.stdout.write(`${JSON.stringify(line)}\n`);
    },
    log,
  };
  // A setup step or check that fails ends that part for this server only; the others still run.
  const part = async (scenario: string, size: number, body: () => Promise<number>): Promise<void> => {
    if (signal.aborted) return;
    try {
      await body();
    } catch (error) {
      if (signal.aborted) return;
      const message = error instanceof Error ? error.message : String(error);
      log(`[${target.name}] ${scenario} ${size} stopped: ${message}`);
      context.emit(failedLine(target.name, scenario, size, 0, message));
    }
  };
  try {
    if (flags.parts.has('calendar')) for (const size of flags.sizes) await part('calendar', size, () => benchCalendar(context, size));
    if (flags.parts.has('contacts')) await part('contacts', Math.max(...flags.suite.contacts), () => benchContacts(context));
    if (flags.parts.has('phone')) await part('phone', flags.suite.phoneEvents, () => benchPhones(context));
  } finally {
    agent.destroy();
  }
}

// ---- the table -------------------------------------------------------------------------------------

interface Row {
  readonly key: string;
  readonly scenario: string;
  readonly size: number;
  readonly cells: Map<ServerName, ResultLine>;
}

function rowKey(line: ResultLine): { key: string; scenario: string } {
  const scenario = line.scenario === 'phone' ? `phone, concurrency ${line.concurrency}` : line.scenario;
  return { key: `${scenario}|${line.collectionSize}`, scenario };
}

function isWrong(line: ResultLine): boolean {
  return Object.keys(line.statusCounts).some((key) => /wrong|mismatch|no-|missing/u.test(key));
}

/** A result counts only if it ran, answered every request right and had at least one operation. */
function valid(line: ResultLine | undefined): boolean {
  return line !== undefined && line.failed === undefined && line.errors === 0 && line.ops > 0;
}

function number(value: number): string {
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  if (value >= 10) return value.toFixed(1);
  return value.toPrecision(2);
}

function cell(line: ResultLine | undefined, notes: string[]): string {
  if (line === undefined) return '—';
  if (line.failed !== undefined) {
    notes.push(`${line.server}, ${line.scenario} ${line.collectionSize}: ${line.failed.slice(0, 300)}`);
    return `failed [${notes.length}]`;
  }
  if (isWrong(line)) return `**wrong** (${line.errors}/${line.ops + line.errors})`;
  if (line.ops === 0 && Object.keys(line.statusCounts).every((key) => /^(403|405|501)$/u.test(key))) return `not supported (${Object.keys(line.statusCounts).join('/')})`;
  if (line.errors > 0) {
    const statuses = Object.entries(line.statusCounts).filter(([key]) => !/^2\d\d$|^ok$/u.test(key)).map(([key, count]) => `${key}×${count}`).join(' ');
    return `errors: ${statuses}`;
  }
  const sequential = line.scenario !== 'phone' && line.concurrency === 1 ? ' (c1)' : '';
  return `${number(line.opsPerSecond)}/s · ${number(line.p50Ms)}/${number(line.p99Ms)} ms${sequential}`;
}

function ratio(almanac: ResultLine | undefined, other: ResultLine | undefined): string {
  if (almanac === undefined || !valid(almanac) || other === undefined) return '—';
  if (!valid(other)) return other.failed !== undefined || other.errors > 0 ? 'peer wrong/failed' : '—';
  return `${number(almanac.opsPerSecond / other.opsPerSecond)}×`;
}

function buildTable(lines: readonly ResultLine[], servers: readonly ServerName[]): { table: string; notes: string[] } {
  const rows = new Map<string, Row>();
  for (const line of lines) {
    const { key, scenario } = rowKey(line);
    let row = rows.get(key);
    if (row === undefined) {
      row = { key, scenario, size: line.collectionSize, cells: new Map() };
      rows.set(key, row);
    }
    row.cells.set(line.server as ServerName, line);
  }
  const peers = servers.filter((s) => s !== 'almanac' && s !== 'ceiling');
  const header = ['scenario', 'size', ...servers.map((s) => TITLES[s]), ...peers.map((p) => `Almanac ÷ ${TITLES[p]}`), ...(servers.includes('ceiling') ? ['Almanac % of ceiling'] : [])];
  const notes: string[] = [];
  const body = [...rows.values()].filter((row) => !row.scenario.startsWith('calendar') || row.cells.size > 0).map((row) => {
    const almanac = row.cells.get('almanac');
    const ceiling = row.cells.get('ceiling');
    const percent = almanac !== undefined && ceiling !== undefined && valid(almanac) && valid(ceiling) ? (almanac.opsPerSecond / ceiling.opsPerSecond) * 100 : undefined;
    const share = servers.includes('ceiling') ? [percent === undefined ? '—' : `${percent < 10 ? percent.toFixed(1) : Math.round(percent)}%`] : [];
    return [row.scenario, row.size.toLocaleString('en-US'), ...servers.map((s) => cell(row.cells.get(s), notes)), ...peers.map((p) => ratio(almanac, row.cells.get(p))), ...share];
  });
  const table = [header, header.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
  return { table, notes };
}

function rssSummary(lines: readonly ResultLine[], servers: readonly ServerName[]): string {
  const parts: string[] = [];
  for (const server of servers) {
    const values = lines.filter((l) => l.server === server && l.rssMb !== undefined).map((l) => l.rssMb ?? 0);
    if (values.length > 0) parts.push(`${TITLES[server]} ${Math.round(Math.min(...values))}–${Math.round(Math.max(...values))} MB`);
  }
  return parts.join(', ');
}

// ---- the document ----------------------------------------------------------------------------------

function machine(): string {
  let model = 'unknown CPU';
  try {
    model = /^model name\s*:\s*(.*)$/mu.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? model;
  } catch {
    // not Linux
  }
  return `${availableParallelism()} × ${model}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}`;
}

function packageVersion(name: string): string {
  const result = spawnSync('dpkg-query', ['-W', '-f', '${Version}', name], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : 'not installed';
}

const BEGIN = '<!-- bench:peers:begin (written by bench/peers.ts; edit outside these markers) -->';
const END = '<!-- bench:peers:end -->';

function writeDocs(path: string, section: string): void {
  const current = existsSync(path) ? readFileSync(path, 'utf8') : `# Performance\n\n${BEGIN}\n${END}\n`;
  const begin = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  const next = begin === -1 || end < begin ? `${current.trimEnd()}\n\n${BEGIN}\n${section}\n${END}\n` : `${current.slice(0, begin + BEGIN.length)}\n${section}\n${current.slice(end)}`;
  writeFileSync(path, next);
}

// ---- main ------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      ...SUITE_FLAGS,
      servers: { type: 'string' },
      'http-load-limit': { type: 'string' },
      docs: { type: 'string' },
      'no-docs': { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    log(USAGE);
    return 0;
  }
  const quick = values.quick === true;
  const flags = suiteFlags(
    { ...values, 'duration-seconds': values['duration-seconds'] ?? (quick ? '2' : '5'), 'phone-events': values['phone-events'] ?? (quick ? '20' : '50') },
    { sizes: [10_000], quickSizes: [500], adaptive: true, requestTimeoutMs: 180_000 },
  );
  const servers: ServerName[] = [];
  for (const name of (values.servers ?? ALL_SERVERS.join(',')).split(',').map((s) => s.trim())) {
    if (!(ALL_SERVERS as readonly string[]).includes(name)) throw new BenchFailure(`--servers takes ${ALL_SERVERS.join(', ')}; got ${name}`);
    servers.push(name as ServerName);
  }
  if (servers.includes('ceiling') && !servers.includes('almanac')) throw new BenchFailure('the ceiling replays Almanac’s answers: --servers needs almanac with ceiling');
  const httpLoadLimit = positive('http-load-limit', values['http-load-limit'], 2000);

  const abort = new AbortController();
  const interrupt = (): void => {
    log('interrupted: finishing requests in flight, then stopping the servers');
    abort.abort();
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  const started = performance.now();
  const lines: ResultLine[] = [];
  const recording = new Recording();
  let almanacLayout: StoppableTarget | undefined;
  for (const server of servers) {
    if (abort.signal.aborted) break;
    const begin = performance.now();
    let target: StoppableTarget;
    try {
      if (server === 'almanac') {
        const almanac = await startAlmanacTarget({ fork: true, user: 'bench', phoneUsers: flags.suite.phoneUsers });
        target = { ...almanac, recorder: recording.record };
        almanacLayout = almanac;
      } else if (server === 'ceiling') {
        if (almanacLayout === undefined) throw new BenchFailure('the ceiling needs Almanac’s answers first');
        target = await startCeiling(recording, almanacLayout);
      } else {
        target = await startPeer(server, { phoneUsers: flags.suite.phoneUsers, httpLoadLimit, log });
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`${TITLES[server]} could not be started: ${message}`);
      lines.push(failedLine(server, 'start', 0, 0, message));
      continue;
    }
    try {
      await runServer(target, flags, abort.signal, lines);
    } finally {
      await target.stop();
    }
    log(`${TITLES[server]} done in ${((performance.now() - begin) / 1000).toFixed(0)} s`);
  }
  if (abort.signal.aborted) return 1;

  // Parts that stopped (a failed setup step or check) are listed under the table, not as rows.
  const { table, notes } = buildTable(lines.filter((l) => l.failed === undefined), servers);
  const stopped = lines.filter((l) => l.failed !== undefined).map((l) => (l.scenario === 'start' ? `${TITLES[l.server as ServerName]} did not start: ${l.failed ?? ''}` : `${TITLES[l.server as ServerName]}, ${l.scenario} part (size ${l.collectionSize}) stopped early: ${l.failed ?? ''}`));
  const command = `npx node bench/peers.ts${argv.length > 0 ? ` ${argv.join(' ')}` : ''}`;
  const versions = servers.filter((s) => PACKAGES[s] !== undefined).map((s) => `${TITLES[s]} ${packageVersion(PACKAGES[s] ?? '')}`).join(', ');
  const minutes = ((performance.now() - started) / 60_000).toFixed(1);
  const section = [
    `## Almanac and its peers, ${new Date().toISOString().slice(0, 10)}`,
    '',
    `- Command: \`${command}\` (${minutes} minutes)`,
    `- Machine: ${machine()}`,
    `- Peers (Debian packages): ${versions === '' ? 'none' : versions}`,
    `- Calendar of ${flags.sizes.map((s) => s.toLocaleString('en-US')).join(' and ')} items (seed ${flags.suite.seed}), ${flags.suite.contacts.map((n) => n.toLocaleString('en-US')).join(' and ')} contacts, ${flags.suite.phoneUsers} phone users × ${flags.suite.phoneEvents} events; peers receive at most ${httpLoadLimit.toLocaleString('en-US')} objects per collection over HTTP, the rest written into their storage; ${flags.suite.durationSeconds} s per scenario at concurrency ${flags.suite.concurrency} unless marked (c1: the server took so long that the scenario ran sequentially)`,
    `- Server RSS over the run: ${rssSummary(lines, servers)}`,
    '',
    'Each cell: operations per second · p50/p99 latency. Only answers that passed every check count; "wrong" means the server answered that scenario wrongly (the count of wrong answers / all answers). Ratios use ops/s.',
    '',
    table,
    ...(notes.length > 0 || stopped.length > 0 ? ['', ...stopped.map((n) => `- ${n.replace(/\s+/gu, ' ').slice(0, 400)}`), ...notes.map((n, i) => `${i + 1}. ${n.replace(/\s+/gu, ' ')}`)] : []),
  ].join('\n');
  process.stdout.write(`\n${section}\n`);
  if (!values['no-docs']) {
    const docs = values.docs ?? new URL('../docs/performance.md', import.meta.url).pathname;
    writeDocs(docs, section);
    log(`table written to ${docs}`);
  }
  log(`done in ${minutes} minutes`);
  const almanacBad = lines.some((l) => l.server === 'almanac' && (l.failed !== undefined || l.errors > 0));
  return almanacBad ? 1 : 0;
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
