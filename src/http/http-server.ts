// The node:http adapter: body limits and timeouts, request ids, JSON access logs, /.well-known
// redirects, /healthz /readyz /metrics, and graceful drain on shutdown. It turns each request into a
// DavRequest for the DAV server and writes back the finished DavResponse.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { DavServer } from '../dav/server.ts';
import type { Store } from '../store/store.ts';
import type { HttpMetrics } from './metrics.ts';

export interface HttpOptions {
  readonly host: string;
  readonly port: number;
  readonly maxBodyBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly trustProxy: boolean;
}

export interface HttpDependencies {
  readonly dav: DavServer;
  readonly store: Store;
  readonly logger: Logger;
  readonly metrics: HttpMetrics;
}

class BodyTooLarge extends Error {}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/u;
const WELL_KNOWN = /^\/\.well-known\/(caldav|carddav)\/?$/u;

/** The DAV target for a request: a PROPFIND on a well-known URI is served as the root. */
function dispatchTarget(method: string, target: string): string {
  return method === 'PROPFIND' && WELL_KNOWN.test(target.split('?')[0] ?? target) ? '/' : target;
}

function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) {
        request.removeAllListeners('data');
        reject(new BodyTooLarge());
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks, size)));
    request.on('error', reject);
  });
}

function clientAddress(request: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = request.headers['x-forwarded-for'];
    const value = Array.isArray(forwarded) ? forwarded.join(',') : forwarded;
    // The right-most entry is the one our own proxy appended; earlier ones are client-supplied.
    const last = value?.split(',').map((part) => part.trim()).filter(Boolean).pop();
    if (last !== undefined) return last;
  }
  return request.socket.remoteAddress ?? 'unknown';
}

function flattenHeaders(request: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export class HttpFrontend {
  readonly server: Server;
  private readonly options: HttpOptions;
  private readonly deps: HttpDependencies;
  private draining = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly sockets = new Set<net.Socket>();

  constructor(options: HttpOptions, deps: HttpDependencies) {
    this.options = options;
    this.deps = deps;
    this.server = createServer({
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      keepAliveTimeout: 5_000,
      maxHeaderSize: 32 * 1024,
    });
    this.server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      void this.serve(request, response);
    });
    // Refuse an announced oversized body before the client sends it.
    this.server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
      if (this.declaredTooLarge(request)) {
        void this.serve(request, response);
        return;
      }
      response.writeContinue();
      void this.serve(request, response);
    });
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /**
   * Stops accepting, lets in-flight requests finish (up to graceMs), then closes every connection.
   * 'shutdown' closes idle keep-alive connections at once. 'handover' (a restart: another process
   * already accepts on the same socket) leaves them to the client: each next request is answered
   * with Connection: close, and idle ones are kept open until the client closes them (clients
   * close at the `Keep-Alive: timeout=5` the server announced, less a margin) or the grace ends. A
   * server closing an idle connection races a client reusing it (the client's request meets a
   * reset); during a restart it is the client that closes, so that race cannot happen.
   */
  async drain(graceMs: number, mode: 'shutdown' | 'handover' = 'shutdown'): Promise<void> {
    this.draining = true;
    let idle: Promise<void>;
    let closed: Promise<void>;
    if (mode === 'handover') {
      // net.Server's close stops accepting without http.Server's closing of idle connections.
      closed = new Promise<void>((resolve) => net.Server.prototype.close.call(this.server, () => resolve()));
      // Replaces the keep-alive timer node:http armed on each idle connection, and the one it arms
      // after a request that was already in flight (answered without Connection: close).
      this.server.keepAliveTimeout = graceMs + 1000;
      for (const socket of this.sockets) socket.setTimeout(graceMs + 1000);
      idle = closed;
    } else {
      closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeIdleConnections();
      idle = this.inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([idle, timeout]);
    clearTimeout(timer);
    this.server.closeAllConnections();
    await closed;
  }

  private declaredTooLarge(request: IncomingMessage): boolean {
    const declared = Number(request.headers['content-length'] ?? '0');
    return Number.isFinite(declared) && declared > this.options.maxBodyBytes;
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const supplied = request.headers['x-request-id'];
    const requestId = typeof supplied === 'string' && REQUEST_ID.test(supplied) ? supplied : randomUUID();
    const method = request.method ?? 'GET';
    const target = request.url ?? '/';
    let status = 500;
    let user: string | undefined;
    this.inFlight += 1;
    try {
      response.setHeader('X-Request-Id', requestId);
      if (this.draining) response.setHeader('Connection', 'close');
      const special = await this.serveOperational(method, target, response);
      if (special !== undefined) {
        status = special;
        return;
      }
      if (this.declaredTooLarge(request)) {
        status = this.sendText(response, 413, 'The request body is too large.\n', { Connection: 'close' });
        request.resume();
        return;
      }
      let body: Buffer;
      try {
        body = await readBody(request, this.options.maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLarge) {
          status = this.sendText(response, 413, 'The request body is too large.\n', { Connection: 'close' });
          return;
        }
        throw error;
      }
      const handled = await this.deps.dav.handle({
        method,
        target: dispatchTarget(method, target),
        headers: flattenHeaders(request),
        body,
        requestId,
        clientAddress: clientAddress(request, this.options.trustProxy),
      });
      user = handled.userName;
      status = handled.response.status;
      if (handled.unavailable) this.deps.metrics.unavailable.inc();
      // A request already in flight when the drain began is told too.
      if (this.draining) response.setHeader('Connection', 'close');
      const payload = handled.response.body;
      const bytes = payload === undefined ? undefined : typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
      response.writeHead(status, {
        ...handled.response.headers,
        ...(bytes === undefined || handled.response.headers['Content-Length'] !== undefined ? {} : { 'Content-Length': String(bytes.byteLength) }),
      });
      response.end(method === 'HEAD' || status === 304 ? undefined : bytes);
    } catch (error) {
      this.deps.logger.error({ err: error, requestId }, 'request failed outside the DAV layer');
      if (!response.headersSent) status = this.sendText(response, 500, `Internal error (request ${requestId}).\n`);
      else response.destroy();
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      const seconds = (performance.now() - started) / 1000;
      this.deps.metrics.observe(method, status, seconds);
      this.deps.logger.info(
        { requestId, method, path: target, status, durationMs: Math.round(seconds * 10_000) / 10, user },
        'request',
      );
    }
  }

  /** Health, readiness, metrics and the well-known redirects, answered without authentication. */
  private async serveOperational(method: string, target: string, response: ServerResponse): Promise<number | undefined> {
    const path = target.split('?')[0] ?? target;
    if (path === '/healthz') return this.sendText(response, 200, 'ok\n');
    if (path === '/readyz') {
      if (this.draining) return this.sendJson(response, 503, { ready: false, reason: 'shutting down' }, { 'Retry-After': '5' });
      try {
        const report = await this.deps.store.readiness();
        return this.sendJson(response, report.ready ? 200 : 503, report, report.ready ? {} : { 'Retry-After': '5' });
      } catch (error) {
        return this.sendJson(response, 503, { ready: false, reason: `store unreachable: ${(error as Error).message}` }, { 'Retry-After': '5' });
      }
    }
    if (path === '/metrics' && (method === 'GET' || method === 'HEAD')) {
      const text = await this.deps.metrics.registry.metrics();
      response.writeHead(200, { 'Content-Type': this.deps.metrics.registry.contentType });
      response.end(method === 'HEAD' ? undefined : text);
      return 200;
    }
    // RFC 6764 §5: the well-known URIs point clients at the context path, here the root. A PROPFIND
    // is answered in place (see dispatchTarget): HTTP libraries drop the body when following a 301,
    // which turns the client's current-user-principal request into allprop.
    if (WELL_KNOWN.test(path) && method !== 'PROPFIND') {
      response.writeHead(301, { Location: '/', 'Content-Length': '0' });
      response.end();
      return 301;
    }
    return undefined;
  }

  private sendText(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): number {
    response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)), ...headers });
    response.end(text);
    return status;
  }

  private sendJson(response: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): number {
    const text = `${JSON.stringify(value)}\n`;
    response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)), ...headers });
    response.end(text);
    return status;
  }
}
