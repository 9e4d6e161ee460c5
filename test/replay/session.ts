// One client's connection to a real Almanac process: replays trace files with the placeholders it has
// learnt so far (Basic auth, exact header set, byte-for-byte body) and reads answers the way clients do.
import { Agent, request as httpRequest } from 'node:http';
import { dav, type ClarkName } from '../../src/dav/xml/names.ts';
import { parseXml } from '../../src/dav/xml/parse.ts';
import { attr, childElements, findChild, findChildren, textContent, type XmlElement } from '../../src/dav/xml/tree.ts';
import { fillTrace, loadTrace, type FilledRequest } from './trace.ts';

export interface Answer {
  readonly request: FilledRequest;
  readonly status: number;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
}

export interface PropValue {
  readonly status: number;
  readonly element: XmlElement;
}

export interface MultistatusMember {
  readonly href: string;
  /** Status of a whole-member answer (`<response><href/><status/>`), e.g. 404 for a removed member. */
  readonly status: number | undefined;
  readonly props: ReadonlyMap<ClarkName, PropValue>;
  readonly error: XmlElement | undefined;
}

export interface Multistatus {
  readonly members: readonly MultistatusMember[];
  /** Top-level DAV:sync-token of a sync-collection answer. */
  readonly syncToken: string | undefined;
}

export interface ReplayOptions {
  /** Extra or replacement placeholder values for this request only. */
  readonly with?: Readonly<Record<string, string>>;
  /** Header replacements (case-insensitive name); `null` removes the header. */
  readonly headers?: Readonly<Record<string, string | null>>;
  /** Rewrites the filled body (for the derived variants a client sends, e.g. a kept sync token). */
  readonly body?: (body: string) => string;
  /** Send without credentials (the iOS simulator's first, unauthenticated attempt). */
  readonly anonymous?: boolean;
  /** Replaces the request target (a redirect followed, or the same body sent to another URL). */
  readonly target?: string;
}

export function statusCode(line: string): number {
  const match = /^HTTP\/\d(?:\.\d)? (\d{3})/u.exec(line.trim());
  if (match?.[1] === undefined) throw new Error(`not an HTTP status line: ${JSON.stringify(line)}`);
  return Number(match[1]);
}

export function readMultistatus(text: string): Multistatus {
  const root = parseXml(text);
  if (root.name !== dav('multistatus')) throw new Error(`expected DAV:multistatus, got ${root.name}`);
  const members = findChildren(root, dav('response')).map((response): MultistatusMember => {
    const props = new Map<ClarkName, PropValue>();
    for (const propstat of findChildren(response, dav('propstat'))) {
      const statusElement = findChild(propstat, dav('status'));
      if (statusElement === undefined) throw new Error('propstat without status');
      const status = statusCode(textContent(statusElement));
      for (const element of childElements(findChild(propstat, dav('prop')) ?? propstat)) props.set(element.name, { status, element });
    }
    const hrefElement = findChild(response, dav('href'));
    if (hrefElement === undefined) throw new Error('response without href');
    const statusElement = findChild(response, dav('status'));
    return {
      href: textContent(hrefElement).trim(),
      status: statusElement === undefined ? undefined : statusCode(textContent(statusElement)),
      props,
      error: findChild(response, dav('error')),
    };
  });
  const token = findChild(root, dav('sync-token'));
  return { members, syncToken: token === undefined ? undefined : textContent(token).trim() };
}

/** The value of a property the server answered with 200, or undefined (absent or any other status). */
export function prop(member: MultistatusMember | undefined, name: ClarkName): XmlElement | undefined {
  const value = member?.props.get(name);
  return value?.status === 200 ? value.element : undefined;
}

export function propText(member: MultistatusMember | undefined, name: ClarkName): string | undefined {
  const element = prop(member, name);
  return element === undefined ? undefined : textContent(element);
}

/** The DAV:href inside a property such as current-user-principal or calendar-home-set. */
export function propHref(member: MultistatusMember | undefined, name: ClarkName): string | undefined {
  const element = prop(member, name);
  const href = element === undefined ? undefined : findChild(element, dav('href'));
  return href === undefined ? undefined : textContent(href).trim();
}

export function childNames(element: XmlElement | undefined): ClarkName[] {
  return element === undefined ? [] : childElements(element).map((child) => child.name);
}

export function resourceTypes(member: MultistatusMember | undefined): ClarkName[] {
  return childNames(prop(member, dav('resourcetype')));
}

/** Privileges of a current-user-privilege-set, as Clark names of the privilege elements. */
export function privileges(member: MultistatusMember | undefined): ClarkName[] {
  const set = prop(member, dav('current-user-privilege-set'));
  return set === undefined ? [] : findChildren(set, dav('privilege')).flatMap((privilege) => childNames(privilege));
}

/** Component names of a supported-calendar-component-set. */
export function componentNames(member: MultistatusMember | undefined, name: ClarkName): string[] {
  const set = prop(member, name);
  return set === undefined ? [] : childElements(set).map((comp) => attr(comp, 'name') ?? '?');
}

/** Reports listed in a supported-report-set, as Clark names. */
export function supportedReports(member: MultistatusMember | undefined): ClarkName[] {
  const set = prop(member, dav('supported-report-set'));
  if (set === undefined) return [];
  return findChildren(set, dav('supported-report')).flatMap((entry) => childNames(findChild(entry, dav('report'))));
}

/** The etag a client keeps: the header or property value without quotes, as `{etag}` wants it. */
export function bareEtag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const match = /^(?:W\/)?"(.*)"$/u.exec(value.trim());
  return match?.[1] ?? value.trim();
}

export class ClientSession {
  readonly baseUrl: URL;
  /** What the client has learnt so far: the placeholder values of the next requests. */
  readonly context: Record<string, string | undefined>;
  /** Free-form memory of a client (tokens, etags per object, ctags). */
  readonly kept = new Map<string, string>();
  readonly log: string[] = [];
  private readonly authorization: string;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(url: string, user: string, password: string, context: Record<string, string | undefined> = {}) {
    this.baseUrl = new URL(url);
    this.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    this.context = context;
  }

  close(): void {
    this.agent.destroy();
  }

  /** Sets placeholder values (e.g. from an answer just read). */
  learn(values: Readonly<Record<string, string | undefined>>): void {
    Object.assign(this.context, values);
  }

  keep(key: string, value: string | undefined): void {
    if (value === undefined) throw new Error(`nothing to keep for ${key}`);
    this.kept.set(key, value);
  }

  recall(key: string): string {
    const value = this.kept.get(key);
    if (value === undefined) throw new Error(`the client kept no ${key} (an earlier step did not provide it)`);
    return value;
  }

  /** Replays one trace file with the current context. */
  async replay(file: string, options: ReplayOptions = {}): Promise<Answer> {
    const filled = fillTrace(loadTrace(file), { ...this.context, ...options.with });
    let headers = [...filled.headers];
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      headers = headers.filter(([existing]) => existing.toLowerCase() !== name.toLowerCase());
      if (value !== null) headers.push([name, value]);
    }
    const body = options.body === undefined ? filled.body : options.body(filled.body);
    return this.send({ ...filled, target: options.target ?? filled.target, headers, body }, options.anonymous === true);
  }

  /** Sends a request that no trace file holds (a variant the README describes), with the client's auth. */
  async request(method: string, target: string, headers: Readonly<Record<string, string>> = {}, body = ''): Promise<Answer> {
    return this.send({ file: '(derived)', method, target, headers: Object.entries(headers), body }, false);
  }

  private send(request: FilledRequest, anonymous: boolean): Promise<Answer> {
    const url = new URL(request.target, this.baseUrl);
    const bytes = Buffer.from(request.body, 'utf8');
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of request.headers) {
      const existing = headers[name];
      headers[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
    }
    if (!anonymous) headers.Authorization = this.authorization;
    if (bytes.length > 0 || ['PUT', 'PROPFIND', 'REPORT', 'PROPPATCH', 'MKCALENDAR', 'MKCOL'].includes(request.method)) {
      headers['Content-Length'] = String(bytes.length);
    }
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest(url, { method: request.method, headers, agent: this.agent }, (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', reject);
        incoming.on('end', () => {
          const flat: Record<string, string> = {};
          for (const [name, value] of Object.entries(incoming.headers)) {
            if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
          }
          const answer: Answer = { request, status: incoming.statusCode ?? 0, headers: flat, text: Buffer.concat(chunks).toString('utf8') };
          this.log.push(`${request.method} ${request.target} (${request.file}) → ${answer.status}`);
          resolve(answer);
        });
      });
      outgoing.on('error', reject);
      outgoing.end(bytes);
    });
  }
}

/** A readable account of an answer for assertion messages: what was sent and what came back. */
export function describeAnswer(answer: Answer): string {
  const excerpt = answer.text.length > 1500 ? `${answer.text.slice(0, 1500)}…` : answer.text;
  return `${answer.request.method} ${answer.request.target} [${answer.request.file}] → ${answer.status}\n${excerpt}`;
}
