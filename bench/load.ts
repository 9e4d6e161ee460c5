// The bounded load driver: C workers send requests (or multi-request tasks) from a factory over
// keep-alive connections until either the time or the request budget runs out, timing each one with
// performance.now(). Only responses with an expected status that pass their check count as operations.
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface BenchResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface BenchRequest {
  readonly method: string;
  /** Absolute path on the target server, already percent-encoded. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** Replaces the target's Authorization header (a request on behalf of another user). */
  readonly authorization?: string;
  /**
   * Sent as X-Bench-Scenario (identical for every server) so the ceiling server knows which prebuilt
   * answer to send, and passed to the target's recorder.
   */
  readonly label?: string;
  /** Statuses that count as success. */
  readonly expect: readonly number[];
  /**
   * Runs after every response (or transport failure, with null), expected or not, so the factory
   * can release what it reserved. Returning a string marks an otherwise expected response as an
   * error; the string becomes its statusCounts key (e.g. "200-etag-mismatch").
   */
  readonly done?: (response: BenchResponse | null) => string | undefined;
}

export interface LoadTarget {
  /** e.g. http://127.0.0.1:5232 — only the origin is used. */
  readonly baseUrl: string;
  /**
   * Several nodes serving the same data (PostgreSQL): requests go to them in turn, like a round-robin
   * load balancer, so consecutive requests of one scenario land on different nodes. baseUrl is unused.
   */
  readonly roundRobinUrls?: readonly string[];
  /** The Authorization header sent with every request. */
  readonly authorization?: string;
  /** Sees every response to a labelled request (the ceiling is built from Almanac's answers). */
  readonly recorder?: (label: string, response: BenchResponse) => void;
}

/** A request as sent, without the driver's success rules. */
export type RequestSpec = Omit<BenchRequest, 'expect' | 'done'>;

/**
 * Several requests timed as one operation (a phone's sync round). `run` sends them with `exchange`
 * (which rejects on transport failure) and resolves to undefined on success or to an error key.
 */
export interface BenchTask {
  readonly label: string;
  readonly run: (exchange: (spec: RequestSpec) => Promise<BenchResponse>) => Promise<string | undefined>;
}

export interface LoadOptions {
  readonly concurrency: number;
  /** Stop issuing requests after this long. */
  readonly maxSeconds: number;
  /** Stop issuing requests after this many. */
  readonly maxRequests: number;
  /** One request never takes longer than this; default 60 s. */
  readonly requestTimeoutMs?: number;
  /** Aborts the run early (Ctrl-C); requests in flight still finish or time out. */
  readonly signal?: AbortSignal;
  /** Builds request (or task) number `sequence` (0-based, in issue order). */
  readonly next: (sequence: number) => BenchRequest | BenchTask;
  /** Called with the first few failures, for the operator. */
  readonly onError?: (description: string) => void;
}

export interface LoadResult {
  /** Successful requests only. */
  readonly ops: number;
  readonly seconds: number;
  readonly opsPerSecond: number;
  /** Latency percentiles of successful requests, in milliseconds (0 when there were none). */
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly errors: number;
  /** Every outcome: "201", "412", "ECONNRESET", "200-etag-mismatch"… */
  readonly statusCounts: Readonly<Record<string, number>>;
}

const MAX_REPORTED_ERRORS = 5;

/** Sends one request and reads the whole response; rejects on transport failure or timeout. */
export async function send(agent: Agent, target: LoadTarget, spec: RequestSpec, timeoutMs = 60_000): Promise<BenchResponse> {
  const response = await sendRaw(agent, target, spec, timeoutMs);
  if (spec.label !== undefined) target.recorder?.(spec.label, response);
  return response;
}

let roundRobinTurn = 0;

function originOf(target: LoadTarget): URL {
  const urls = target.roundRobinUrls;
  if (urls === undefined || urls.length === 0) return new URL(target.baseUrl);
  roundRobinTurn = (roundRobinTurn + 1) % urls.length;
  return new URL(urls[roundRobinTurn] ?? target.baseUrl);
}

function sendRaw(agent: Agent, target: LoadTarget, spec: RequestSpec, timeoutMs: number): Promise<BenchResponse> {
  const origin = originOf(target);
  const body = spec.body === undefined ? undefined : typeof spec.body === 'string' ? Buffer.from(spec.body, 'utf8') : spec.body;
  const headers: Record<string, string> = { ...spec.headers };
  const authorization = spec.authorization ?? target.authorization;
  if (authorization !== undefined) headers.Authorization = authorization;
  if (spec.label !== undefined) headers['X-Bench-Scenario'] = spec.label;
  headers['Content-Length'] = String(body?.byteLength ?? 0);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { agent, protocol: origin.protocol, hostname: origin.hostname, port: origin.port, method: spec.method, path: spec.path, headers, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no response within ${timeoutMs} ms`), { code: 'TIMEOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'ERROR';
}

/** Runs the load and resolves when every worker has stopped; never rejects for request failures. */
export async function runLoad(target: LoadTarget, options: LoadOptions): Promise<LoadResult> {
  if (!Number.isSafeInteger(options.concurrency) || options.concurrency < 1) throw new RangeError('concurrency must be a positive integer');
  if (!Number.isSafeInteger(options.maxRequests) || options.maxRequests < 1) throw new RangeError('maxRequests must be a positive integer');
  if (!(options.maxSeconds > 0)) throw new RangeError('maxSeconds must be positive');
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency, maxFreeSockets: options.concurrency });
  const latencies = new Float64Array(options.maxRequests);
  const statusCounts: Record<string, number> = {};
  let issued = 0;
  let ops = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.maxSeconds * 1000;

  const fail = (key: string, description: string): void => {
    errors += 1;
    if (errors <= MAX_REPORTED_ERRORS) options.onError?.(description);
    else if (errors === MAX_REPORTED_ERRORS + 1) options.onError?.('(further errors not shown)');
    statusCounts[key] = (statusCounts[key] ?? 0) + 1;
  };

  const worker = async (): Promise<void> => {
    // Bounded by maxRequests (issued only grows) and by the deadline.
    while (issued < options.maxRequests && performance.now() < deadline && options.signal?.aborted !== true) {
      const spec = options.next(issued);
      issued += 1;
      const begin = performance.now();
      if ('run' in spec) {
        let verdict: string | undefined;
        try {
          verdict = await spec.run((request) => send(agent, target, request, options.requestTimeoutMs));
        } catch (error) {
          fail(errorCode(error), `${spec.label}: ${(error as Error).message}`);
          continue;
        }
        const elapsed = performance.now() - begin;
        if (verdict !== undefined) {
          fail(verdict, `${spec.label}: ${verdict}`);
        } else {
          latencies[ops] = elapsed;
          ops += 1;
          statusCounts.ok = (statusCounts.ok ?? 0) + 1;
        }
        continue;
      }
      let response: BenchResponse;
      try {
        response = await send(agent, target, spec, options.requestTimeoutMs);
      } catch (error) {
        spec.done?.(null);
        fail(errorCode(error), `${spec.method} ${spec.path}: ${(error as Error).message}`);
        continue;
      }
      const elapsed = performance.now() - begin;
      const verdict = spec.done?.(response);
      if (!spec.expect.includes(response.status)) {
        const snippet = response.body.toString('utf8', 0, Math.min(response.body.byteLength, 300)).replace(/\s+/gu, ' ');
        fail(String(response.status), `${spec.method} ${spec.path}: status ${response.status} (expected ${spec.expect.join('/')}) after ${elapsed.toFixed(1)} ms: ${snippet}`);
      } else if (verdict !== undefined) {
        fail(verdict, `${spec.method} ${spec.path}: status ${response.status} but ${verdict}`);
      } else {
        latencies[ops] = elapsed;
        ops += 1;
        const key = String(response.status);
        statusCounts[key] = (statusCounts[key] ?? 0) + 1;
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  const sorted = latencies.subarray(0, ops).sort();
  return {
    ops,
    seconds,
    opsPerSecond: seconds > 0 ? ops / seconds : 0,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted.length === 0 ? 0 : (sorted[sorted.length - 1] ?? 0),
    errors,
    statusCounts,
  };
}
