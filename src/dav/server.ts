// The DAV request pipeline: parse the path → authenticate → resolve the resource (own space only)
// → run the method → turn any error into its one HTTP form. Callable in-process: tests need no socket.
// Must not import src/http or any protocol plugin (plugins are passed in).
import type { AuthOutcome } from '../auth/authenticator.ts';
import type { Store } from '../store/store.ts';
import type { CollectionKind, UserRecord } from '../store/types.ts';
import { DavError, errorToResponse } from './errors.ts';
import { copyOrMove } from './methods/copy-move.ts';
import { deleteResource } from './methods/delete.ts';
import { get } from './methods/get.ts';
import { mkcol } from './methods/mkcol.ts';
import { allowedMethods, options } from './methods/options.ts';
import { propfind } from './methods/propfind.ts';
import { proppatch } from './methods/proppatch.ts';
import { put } from './methods/put.ts';
import { report } from './methods/report.ts';
import { encodePath, parseTarget } from './paths.ts';
import { PluginRegistry, type DavPlugin, type MethodHandler, type RequestContext, type ServerSettings } from './plugin.ts';
import { CORE_PROPERTIES } from './properties/core.ts';
import type { DavRequest, DavResponse } from './request.ts';
import { isVisibleTo, resolveResource } from './resolve.ts';

/** On success the outcome may carry the user's record, read with the credentials (one store read, not two). */
export type Authenticate = (authorization: string | undefined, clientAddress: string) => Promise<AuthOutcome<UserRecord>>;

/** The little the DAV layer needs to report faults; pino satisfies it. */
export interface DavLogger {
  error(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface DavServerOptions {
  readonly store: Store;
  readonly authenticate: Authenticate;
  readonly plugins: readonly DavPlugin[];
  readonly settings: ServerSettings;
  readonly logger: DavLogger;
  readonly realm?: string;
}

const CORE_METHODS: Readonly<Record<string, MethodHandler>> = {
  OPTIONS: options,
  PROPFIND: propfind,
  PROPPATCH: proppatch,
  MKCOL: mkcol,
  GET: get,
  HEAD: get,
  PUT: put,
  DELETE: deleteResource,
  COPY: copyOrMove,
  MOVE: copyOrMove,
  REPORT: report,
};

/** The outcome of one request, with what the access log should record about it. */
export interface HandledRequest {
  readonly response: DavResponse;
  readonly userName: string | undefined;
  /** Set when the answer is 503 because the store could not answer completely. */
  readonly unavailable: boolean;
}

export class DavServer {
  readonly registry: PluginRegistry;
  private readonly options: DavServerOptions;
  private readonly methods: ReadonlyMap<string, MethodHandler>;
  /** Users whose homes exist, checked once per process (homes are never deleted while the user exists). */
  private readonly homesReady = new Set<number>();

  constructor(options: DavServerOptions) {
    this.options = options;
    this.registry = new PluginRegistry([{ name: 'core', properties: CORE_PROPERTIES }, ...options.plugins]);
    this.methods = new Map([...Object.entries(CORE_METHODS), ...this.registry.methods]);
  }

  async handle(request: DavRequest): Promise<HandledRequest> {
    let userName: string | undefined;
    try {
      const method = request.method.toUpperCase();
      const parsed = parseTarget(request.target === '*' ? '/' : request.target);
      const user = await this.authenticate(request);
      if ('response' in user) return { response: user.response, userName: undefined, unavailable: false };
      userName = user.name;
      // Isolation: anything outside the shared structure and the user's own space is answered as
      // absent for every method, before any handler looks at it — whether or not it exists.
      if (!isVisibleTo(user, parsed.segments)) throw new DavError(404, 'Not found.');
      await this.ensureHomes(user);
      const context: RequestContext = { request, store: this.options.store, user, settings: this.options.settings, registry: this.registry };
      const resource = await resolveResource(this.options.store, user, parsed, method === 'GET');
      const handler = this.methods.get(method);
      if (handler === undefined) {
        // RFC 9110 §15.6.2: 501 for a method the server does not implement for any resource.
        throw new DavError(501, `This server does not support the ${method} method.`, undefined, { Allow: allowedMethods(context, resource).join(', ') });
      }
      return { response: await handler(context, resource), userName, unavailable: false };
    } catch (error) {
      const { response, internal } = errorToResponse(error, {
        uidConflict: (clash) => this.registry.uidConflict(clash.collectionKind as CollectionKind)?.(encodePath(`${clash.collectionPath}${clash.existingName}`)),
      });
      if (internal) {
        this.options.logger.error({ err: error, requestId: request.requestId }, 'request failed');
      } else if (response.status === 503) {
        this.options.logger.warn({ err: error, requestId: request.requestId }, 'store could not answer; told the client to retry');
      }
      return { response, userName, unavailable: response.status === 503 };
    }
  }

  private async authenticate(request: DavRequest): Promise<UserRecord | { response: DavResponse }> {
    const outcome = await this.options.authenticate(request.headers.authorization, request.clientAddress);
    switch (outcome.kind) {
      case 'ok': {
        const user = outcome.account ?? (await this.options.store.getUser(outcome.userName));
        if (user !== null) return user;
        return { response: this.challenge() };
      }
      case 'missing':
      case 'invalid':
        return { response: this.challenge() };
      case 'throttled':
        return {
          response: { status: 429, headers: { 'Retry-After': String(outcome.retryAfterSeconds), 'Content-Type': 'text/plain; charset=utf-8' }, body: 'Too many failed logins; try again later.\n' },
        };
      case 'busy':
        return {
          response: { status: 503, headers: { 'Retry-After': String(outcome.retryAfterSeconds), 'Content-Type': 'text/plain; charset=utf-8' }, body: 'The server is busy; try again shortly.\n' },
        };
    }
  }

  private challenge(): DavResponse {
    const realm = (this.options.realm ?? 'Almanac').replace(/["\\]/gu, '');
    return {
      status: 401,
      headers: { 'WWW-Authenticate': `Basic realm="${realm}", charset="UTF-8"`, 'Content-Type': 'text/plain; charset=utf-8' },
      body: 'Authentication required.\n',
    };
  }

  private async ensureHomes(user: UserRecord): Promise<void> {
    if (this.homesReady.has(user.id)) return;
    await this.options.store.ensureHomes(user.id, this.registry.homes(user));
    this.homesReady.add(user.id);
  }
}
