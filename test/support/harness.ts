// In-process test harness: a real store (SQLite in a temporary folder, or PostgreSQL with
// ALMANAC_TEST_STORE=postgres, see test-store.ts), the real authenticator and DAV server, and helpers to send requests as a user and read multistatus answers the way clients do.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { hashPassword } from '../../src/auth/passwords.ts';
import { DEFAULTS, type Config } from '../../src/config/config.ts';
import type { DavResponse } from '../../src/dav/request.ts';
import type { DavServer } from '../../src/dav/server.ts';
import { dav, type ClarkName } from '../../src/dav/xml/names.ts';
import { parseXml } from '../../src/dav/xml/parse.ts';
import { childElements, findChild, findChildren, textContent, type XmlElement } from '../../src/dav/xml/tree.ts';
import { buildDavServer } from '../../src/http/app.ts';
import type { ReleaseStore } from '../../src/store/release-store.ts';
import type { Store } from '../../src/store/store.ts';
import { openTestStore, type TestStore } from './test-store.ts';

export interface TestResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
  readonly raw: DavResponse;
}

export interface SendOptions {
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array;
  /** Credentials to send; `null` sends none. Defaults to the harness's first user. */
  readonly as?: { readonly user: string; readonly password: string } | null;
}

export const PASSWORD = 'correct horse battery staple';

export class Harness {
  readonly dir: string;
  readonly store: Store & ReleaseStore;
  readonly dav: DavServer;
  readonly config: Config;
  private readonly opened: TestStore;
  private defaultUser: { user: string; password: string } | undefined;

  private constructor(dir: string, opened: TestStore, dav: DavServer, config: Config) {
    this.dir = dir;
    this.opened = opened;
    this.store = opened.store;
    this.dav = dav;
    this.config = config;
  }

  static async start(users: readonly string[] = ['alice', 'bob'], overrides: Partial<Config> = {}): Promise<Harness> {
    const dir = mkdtempSync(join(tmpdir(), 'almanac-test-'));
    const config: Config = { ...DEFAULTS, data: dir, logLevel: 'silent', ...overrides };
    const opened = await openTestStore(dir);
    const store = opened.store;
    const harness = new Harness(dir, opened, buildDavServer(store, config, pino({ level: 'silent' })), config);
    const hash = await hashPassword(PASSWORD);
    for (const name of users) {
      await store.createUser({ name, email: `${name}@example.com`, displayName: name.toUpperCase(), passwordHash: hash });
    }
    if (users[0] !== undefined) harness.defaultUser = { user: users[0], password: PASSWORD };
    return harness;
  }

  /** A second store on the same data, as another process or node would open it. */
  openAnotherStore(): Promise<Store & ReleaseStore> {
    return this.opened.openAnother();
  }

  async close(): Promise<void> {
    await this.opened.dispose();
    rmSync(this.dir, { recursive: true, force: true });
  }

  async send(method: string, target: string, options: SendOptions = {}): Promise<TestResponse> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
    const credentials = options.as === undefined ? this.defaultUser : options.as;
    if (credentials !== null && credentials !== undefined && headers.authorization === undefined) {
      headers.authorization = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
    }
    const body = options.body === undefined ? new Uint8Array() : typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : options.body;
    const { response } = await this.dav.handle({ method, target, headers, body, requestId: 'test', clientAddress: '127.0.0.1' });
    const text = response.body === undefined ? '' : typeof response.body === 'string' ? response.body : Buffer.from(response.body).toString('utf8');
    return { status: response.status, headers: response.headers, text, raw: response };
  }

  as(user: string): { readonly user: string; readonly password: string } {
    return { user, password: PASSWORD };
  }
}

/** One <response> of a multistatus, as a client reads it. */
export interface ParsedResponse {
  readonly href: string;
  readonly status: string | undefined;
  /** property Clark name → { status line, element } */
  readonly props: ReadonlyMap<ClarkName, { readonly status: string; readonly element: XmlElement }>;
}

export function parseMultistatus(text: string): ParsedResponse[] {
  const root = parseXml(text);
  if (root.name !== dav('multistatus')) throw new Error(`expected multistatus, got ${root.name}`);
  return findChildren(root, dav('response')).map((response) => {
    const props = new Map<ClarkName, { status: string; element: XmlElement }>();
    for (const propstat of findChildren(response, dav('propstat'))) {
      const status = textContent(findChild(propstat, dav('status')) ?? propstat);
      for (const element of childElements(findChild(propstat, dav('prop')) ?? propstat)) props.set(element.name, { status, element });
    }
    const statusElement = findChild(response, dav('status'));
    return {
      href: textContent(findChild(response, dav('href')) ?? response),
      status: statusElement === undefined ? undefined : textContent(statusElement),
      props,
    };
  });
}

export function propfindBody(...names: ClarkName[]): string {
  const prefixes = new Map<string, string>();
  const parts = names.map((name) => {
    const close = name.indexOf('}');
    const namespace = name.slice(1, close);
    let prefix = prefixes.get(namespace);
    if (prefix === undefined) {
      prefix = `n${prefixes.size}`;
      prefixes.set(namespace, prefix);
    }
    return `<${prefix}:${name.slice(close + 1)}/>`;
  });
  const declarations = [...prefixes].map(([namespace, prefix]) => ` xmlns:${prefix}="${namespace}"`).join('');
  return `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"${declarations}><D:prop>${parts.join('')}</D:prop></D:propfind>`;
}

/** The precondition elements of a DAV:error body (the server's human-readable message left out). */
export function errorConditions(text: string): ClarkName[] {
  const root = parseXml(text);
  return childElements(root).map((e) => e.name).filter((name) => name !== '{http://almanac.invalid/ns}message');
}

/** The human-readable reason the server put into a DAV:error body. */
export function errorMessage(text: string): string | undefined {
  const message = childElements(parseXml(text)).find((e) => e.name === '{http://almanac.invalid/ns}message');
  return message === undefined ? undefined : textContent(message);
}
