// The HTTP Basic verification pipeline: parse, look up, cache, argon2 behind a bounded queue, and
// failure throttling that never turns away a credential that verifies. Imports only src/auth; must
// not import src/http, src/dav, src/cli or protocol plugins.
import { addressThrottleKey } from './address-key.ts';
import { FailureCounter } from './failure-counter.ts';
import { hashPassword, normalizeAppPassword, parseBasicAuth, verifyPassword } from './passwords.ts';
import { VerificationLimiter } from './verification-limiter.ts';
import { userNameKey, VerifiedCache } from './verified-cache.ts';
import type { VerifiedEntry } from './verified-cache.ts';
import { randomBytes } from 'node:crypto';

export interface CredentialRecord {
  readonly userId: number;
  readonly userName: string;
  readonly passwordHash: string | null;
  readonly appPasswordHashes: readonly { readonly id: number; readonly hash: string }[];
  readonly credentialsVersion: number;
}

/**
 * Implemented by the store; called once per request, so it must be cheap. `account` is whatever else
 * the caller wants read with the credentials (the user's record): handed back on success, never cached.
 */
export interface CredentialSource<Account = never> {
  lookup(userName: string): Promise<(CredentialRecord & { readonly account?: Account }) | null>;
}

export type AuthOutcome<Account = never> =
  | { readonly kind: 'ok'; readonly userId: number; readonly userName: string; readonly appPasswordId: number | null; readonly account?: Account }
  /** No or unparseable Authorization → 401. */
  | { readonly kind: 'missing' }
  /** Wrong user or password → 401. */
  | { readonly kind: 'invalid' }
  /** Too many recent failures and this credential did not verify → 429. */
  | { readonly kind: 'throttled'; readonly retryAfterSeconds: number }
  /** Verification queue full → 503. */
  | { readonly kind: 'busy'; readonly retryAfterSeconds: number };

export interface AuthenticatorOptions {
  /** How long a successful verification is reused; default 60 s. */
  cacheTtlMs?: number;
  /** Default 10 000. */
  cacheMaxEntries?: number;
  /** Failures per user name within the window before further failures are throttled; default 10. */
  maxFailuresPerUser?: number;
  /** Failures per client address (IPv6: per /64) within the window; default 30. */
  maxFailuresPerAddress?: number;
  /** Default 15 minutes. */
  failureWindowMs?: number;
  /** Argon2 runs at once; default 2. */
  maxConcurrentVerifications?: number;
  /** Requests allowed to wait for a run before answering busy; default 64. */
  maxQueuedVerifications?: number;
  /** Distinct user names, and separately distinct addresses, whose failures are remembered; default 10 000. */
  maxTrackedFailureKeys?: number;
  /** Milliseconds on any monotonic scale; default performance.now(), which NTP steps cannot move. */
  now?: () => number;
  /** Replaces argon2 verification, for tests. Must resolve false, not reject, on a malformed hash. */
  verify?: (hash: string, plain: string) => Promise<boolean>;
}

type Verification = { readonly kind: 'ok'; readonly appPasswordId: number | null } | { readonly kind: 'failed' } | { readonly kind: 'busy' };

const MISSING: AuthOutcome = Object.freeze({ kind: 'missing' });
const INVALID: AuthOutcome = Object.freeze({ kind: 'invalid' });
const FAILED: Verification = Object.freeze({ kind: 'failed' });
const BUSY: Verification = Object.freeze({ kind: 'busy' });
// A queue of a few dozen ~30 ms runs drains in about a second.
const BUSY_RETRY_AFTER_SECONDS = 1;

// Unknown users still cost one verification so response time does not reveal which names exist.
// One dummy per process is enough: verification time depends on the parameters, not on the hash.
let dummyHash: Promise<string> | undefined;
function getDummyHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(24).toString('base64')).catch((error: unknown) => {
    dummyHash = undefined;
    throw error;
  });
  return dummyHash;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number, got ${value}`);
  return value;
}

export class Authenticator<Account = never> {
  readonly #source: CredentialSource<Account>;
  readonly #now: () => number;
  readonly #verify: (hash: string, plain: string) => Promise<boolean>;
  readonly #cacheTtlMs: number;
  readonly #cache: VerifiedCache;
  readonly #limiter: VerificationLimiter;
  // Throttled requests may only fill half the queue, so a throttled attacker cannot starve everyone
  // else's cold logins of verification slots.
  readonly #throttledQueueLimit: number;
  readonly #userFailures: FailureCounter;
  readonly #addressFailures: FailureCounter;
  // Concurrent requests with the same credential (a phone opening several connections after the
  // cache expired) share one verification instead of queueing one each.
  readonly #inFlight = new Map<string, Promise<Verification>>();
  // Bumped by invalidateUser so a verification that started before the invalidation neither
  // refills the cache nor is joined by later requests.
  #invalidations = 0;

  constructor(source: CredentialSource<Account>, options: AuthenticatorOptions = {}) {
    this.#source = source;
    this.#now = options.now ?? (() => performance.now());
    this.#verify = options.verify ?? verifyPassword;
    this.#cacheTtlMs = nonNegative('cacheTtlMs', options.cacheTtlMs ?? 60_000);
    this.#cache = new VerifiedCache(nonNegative('cacheMaxEntries', options.cacheMaxEntries ?? 10_000));
    const maxQueued = nonNegative('maxQueuedVerifications', options.maxQueuedVerifications ?? 64);
    this.#limiter = new VerificationLimiter(positiveInteger('maxConcurrentVerifications', options.maxConcurrentVerifications ?? 2), maxQueued);
    this.#throttledQueueLimit = Math.floor(maxQueued / 2);
    const windowMs = positiveInteger('failureWindowMs', options.failureWindowMs ?? 15 * 60_000);
    const maxKeys = positiveInteger('maxTrackedFailureKeys', options.maxTrackedFailureKeys ?? 10_000);
    this.#userFailures = new FailureCounter(positiveInteger('maxFailuresPerUser', options.maxFailuresPerUser ?? 10), windowMs, maxKeys);
    this.#addressFailures = new FailureCounter(positiveInteger('maxFailuresPerAddress', options.maxFailuresPerAddress ?? 30), windowMs, maxKeys);
  }

  async authenticate(authorizationHeader: string | undefined, clientAddress: string): Promise<AuthOutcome<Account>> {
    const credentials = parseBasicAuth(authorizationHeader);
    if (credentials === null) return MISSING;
    const { user, password } = credentials;
    const userKey = userNameKey(user);
    const addressKey = addressThrottleKey(clientAddress);
    const throttled = this.#userFailures.isOver(userKey, this.#now()) || this.#addressFailures.isOver(addressKey, this.#now());

    // Looked up on every request, cache hit or not: the version comparison is what makes a password
    // change or revocation by another process (the CLI beside the server) take effect at once.
    const record = await this.#source.lookup(user);
    const cacheKey = this.#cache.keyFor(user, password);
    if (record !== null) {
      const hit = this.#cache.get(cacheKey, this.#now());
      if (hit !== undefined) {
        if (stillValid(hit, record)) return ok(record, hit.appPasswordId);
        this.#cache.delete(cacheKey);
      }
    }

    const invalidationsAtStart = this.#invalidations;
    const flightKey = `${cacheKey}/${record === null ? '-' : `${record.userId}.${record.credentialsVersion}`}/${invalidationsAtStart}`;
    let flight = this.#inFlight.get(flightKey);
    if (flight === undefined) {
      flight = this.#verifyQueued(record, password, throttled).finally(() => this.#inFlight.delete(flightKey));
      this.#inFlight.set(flightKey, flight);
    }
    const result = await flight;

    switch (result.kind) {
      case 'busy':
        return { kind: 'busy', retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS };
      case 'ok':
        if (record === null) return INVALID; // unreachable: nothing verifies without a record
        if (this.#invalidations === invalidationsAtStart) {
          const entry: VerifiedEntry = {
            userId: record.userId,
            appPasswordId: result.appPasswordId,
            credentialsVersion: record.credentialsVersion,
            expiresAt: this.#now() + this.#cacheTtlMs,
            nameKeys: [userKey, userNameKey(record.userName)],
          };
          this.#cache.set(cacheKey, entry, this.#now());
        }
        // Deliberately no counter reset. Resetting the user's counter would let the owner's own
        // syncing devices wipe an attacker's progress against that account every minute; resetting
        // the address counter would let anyone holding one valid account interleave a good login
        // to keep guessing other accounts from the same address. Counters only ever age out, which
        // costs legitimate users nothing because a verifying credential is always served.
        return ok(record, result.appPasswordId);
      case 'failed': {
        const now = this.#now();
        this.#userFailures.record(userKey, now);
        this.#addressFailures.record(addressKey, now);
        if (!throttled) return INVALID;
        const waitMs = Math.max(this.#userFailures.retryAfterMs(userKey, now), this.#addressFailures.retryAfterMs(addressKey, now));
        return { kind: 'throttled', retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
      }
    }
  }

  /** Drops cached verifications for the user at once (after passwd, app-password revoke, user delete). */
  invalidateUser(userName: string): void {
    this.#invalidations++;
    this.#cache.deleteUser(userNameKey(userName));
  }

  async #verifyQueued(record: CredentialRecord | null, password: string, throttled: boolean): Promise<Verification> {
    const queueLimit = throttled ? this.#throttledQueueLimit : Number.POSITIVE_INFINITY;
    const outcome = await this.#limiter.run(() => this.#verifyCredential(record, password), queueLimit);
    return outcome === null ? BUSY : outcome.value;
  }

  // Account password first, then app passwords. Only input shaped like a generated app password is
  // tried against app-password hashes, so a mistyped account password costs one run, not one per
  // device.
  async #verifyCredential(record: CredentialRecord | null, password: string): Promise<Verification> {
    let attempted = false;
    if (record !== null) {
      if (record.passwordHash !== null) {
        attempted = true;
        if (await this.#verify(record.passwordHash, password)) return { kind: 'ok', appPasswordId: null };
      }
      const appPassword = normalizeAppPassword(password);
      if (appPassword !== null) {
        for (const candidate of record.appPasswordHashes) {
          attempted = true;
          if (await this.#verify(candidate.hash, appPassword)) return { kind: 'ok', appPasswordId: candidate.id };
        }
      }
    }
    // Unknown users, and users with nothing to try, take as long as a wrong password would.
    if (!attempted) await this.#verify(await getDummyHash(), password);
    return FAILED;
  }
}

function stillValid(hit: VerifiedEntry, record: CredentialRecord): boolean {
  if (hit.userId !== record.userId || hit.credentialsVersion !== record.credentialsVersion) return false;
  // Belt and braces in case a store removes a credential without bumping the version.
  if (hit.appPasswordId === null) return record.passwordHash !== null;
  return record.appPasswordHashes.some((candidate) => candidate.id === hit.appPasswordId);
}

function ok<Account>(record: CredentialRecord & { readonly account?: Account }, appPasswordId: number | null): AuthOutcome<Account> {
  const outcome = { kind: 'ok' as const, userId: record.userId, userName: record.userName, appPasswordId };
  return record.account === undefined ? outcome : { ...outcome, account: record.account };
}
