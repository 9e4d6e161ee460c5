// The shape of a client's replayed lifecycle (ordered steps, each naming its request files and what it
// checks) and the assertion helpers the steps use to state what a client relies on.
import assert from 'node:assert/strict';
import { describeAnswer, readMultistatus, type Answer, type ClientSession, type Multistatus, type MultistatusMember, type ReplayOptions } from './session.ts';

export type Phase =
  | 'trouble'
  | 'discovery'
  | 'account setup'
  | 'listing'
  | 'change detection'
  | 'sync'
  | 'multiget'
  | 'write'
  | 'conflict'
  | 'collections'
  | 'contacts';

export interface Step {
  readonly title: string;
  readonly phase: Phase;
  /** The trace files the step replays (`<client>/<file>.http`); empty for a README-described request only. */
  readonly files: readonly string[];
  /** One sentence: what the client relies on, as checked here. */
  readonly checks: string;
  /**
   * Set when the step checks something Almanac does not offer yet and the client copes without it:
   * the step still runs and asserts the right answer, but is reported as a known gap (node:test todo)
   * instead of failing the suite. Remove it once the server offers the feature.
   */
  readonly gap?: string;
  /** `server` is the process under test (its data folder, for trouble states). */
  run(client: ClientSession, server: ServerUnderTest): Promise<void>;
}

export interface ServerUnderTest {
  readonly url: string;
  readonly dataDir: string;
  /** The PostgreSQL URL when the server runs on PostgreSQL. */
  readonly database?: string | undefined;
}

export interface Quirk {
  readonly quirk: string;
  readonly accommodation: string;
}

export interface ClientLifecycle {
  readonly id: string;
  readonly name: string;
  /** Client versions the traces represent (User-Agents in the files, source commits in the README). */
  readonly represents: string;
  readonly user: string;
  readonly displayName: string;
  readonly password: string;
  /** Placeholder values known before the first request (what the user typed). */
  readonly initialContext: Readonly<Record<string, string>>;
  readonly steps: readonly Step[];
  readonly quirks: readonly Quirk[];
}

/**
 * Replays a request and, on a redirect, sends the same request to the Location the way the clients'
 * HTTP stacks do for PROPFIND (method and body kept). Returns the redirect (if any) and the final answer.
 */
export async function replayFollowing(client: ClientSession, file: string, options: ReplayOptions = {}): Promise<{ redirect: Answer | undefined; final: Answer }> {
  const first = await client.replay(file, options);
  if (![301, 302, 307, 308].includes(first.status)) return { redirect: undefined, final: first };
  const location = first.headers.location;
  expectThat(location !== undefined && location !== '', 'a redirect must carry Location', first);
  const target = new URL(location, client.baseUrl);
  expectThat(target.origin === client.baseUrl.origin, `redirect leaves the server: ${location}`, first);
  return { redirect: first, final: await client.replay(file, { ...options, target: `${target.pathname}${target.search}` }) };
}

export function expectStatus(answer: Answer, allowed: readonly number[], why: string): void {
  assert.ok(allowed.includes(answer.status), `${why}: expected ${allowed.join(' or ')}, got ${answer.status}\n${describeAnswer(answer)}`);
}

/** Asserts a 207 multistatus and parses it. */
export function expectMultistatus(answer: Answer, why: string): Multistatus {
  expectStatus(answer, [207], why);
  assert.match(answer.headers['content-type'] ?? '', /xml/u, `${why}: a 207 must be XML\n${describeAnswer(answer)}`);
  try {
    return readMultistatus(answer.text);
  } catch (error) {
    assert.fail(`${why}: unreadable multistatus (${(error as Error).message})\n${describeAnswer(answer)}`);
  }
}

export function expectThat(condition: boolean, message: string, answer?: Answer): asserts condition {
  assert.ok(condition, answer === undefined ? message : `${message}\n${describeAnswer(answer)}`);
}

/** Clients compare hrefs after percent-decoding (`@` and `%40` are the same member). */
export function sameHref(a: string, b: string): boolean {
  const decode = (href: string): string => {
    try {
      return decodeURIComponent(href);
    } catch {
      return href;
    }
  };
  return a === b || decode(a) === decode(b);
}

export function memberAt(multistatus: Multistatus, href: string, answer: Answer): MultistatusMember {
  const member = multistatus.members.find((m) => sameHref(m.href, href));
  expectThat(member !== undefined, `no <response> for ${href} (got ${multistatus.members.map((m) => m.href).join(', ')})`, answer);
  return member;
}

/** Under `Prefer: return=minimal` only 200 propstats may come back (Apple reads "absent" as "unsupported"). */
export function expectOnly200(multistatus: Multistatus, answer: Answer): void {
  for (const member of multistatus.members) {
    for (const [name, value] of member.props) {
      expectThat(value.status === 200, `return=minimal answer carries ${name} with ${value.status} on ${member.href}`, answer);
    }
  }
}

/** No property may fail with anything but 404 (unknown) or 200: a 500 propstat breaks every client. */
export function expectCleanPropstats(multistatus: Multistatus, answer: Answer): void {
  for (const member of multistatus.members) {
    for (const [name, value] of member.props) {
      expectThat([200, 404].includes(value.status), `${name} answered ${value.status} on ${member.href}`, answer);
    }
  }
}
