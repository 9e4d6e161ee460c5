// Tests for the authentication pipeline: cache, version invalidation, throttling, queue bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Authenticator } from './authenticator.ts';
import type { AuthenticatorOptions, CredentialRecord, CredentialSource } from './authenticator.ts';

// Fake "hashes" keep these tests free of argon2: a hash is `fake:` + the password it accepts.
const fakeHash = (plain: string): string => `fake:${plain}`;
const APP_PW = 'abcd-efgh-jkmn-pqrs';
const MINUTE = 60_000;

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

class MemorySource implements CredentialSource {
  readonly users = new Map<string, CredentialRecord>();
  lookups = 0;
  add(record: Partial<CredentialRecord> & { userName: string }): void {
    this.users.set(record.userName, {
      userId: this.users.size + 1,
      passwordHash: null,
      appPasswordHashes: [],
      credentialsVersion: 1,
      ...record,
    });
  }
  update(userName: string, change: Partial<CredentialRecord>): void {
    const current = this.users.get(userName);
    assert.ok(current);
    this.users.set(userName, { ...current, ...change, credentialsVersion: current.credentialsVersion + 1 });
  }
  lookup(userName: string): Promise<CredentialRecord | null> {
    this.lookups++;
    return Promise.resolve(this.users.get(userName) ?? null);
  }
}

interface Harness {
  readonly source: MemorySource;
  readonly auth: Authenticator;
  readonly calls: { hash: string; plain: string }[];
  readonly clock: { now: number };
}

function harness(options: AuthenticatorOptions = {}): Harness {
  const source = new MemorySource();
  source.add({ userName: 'alice', passwordHash: fakeHash('right'), appPasswordHashes: [{ id: 7, hash: fakeHash(APP_PW) }] });
  source.add({ userName: 'bob', passwordHash: fakeHash('bobpw') });
  const calls: { hash: string; plain: string }[] = [];
  const clock = { now: 1_000_000 };
  const auth = new Authenticator(source, {
    now: () => clock.now,
    verify: (hash, plain) => {
      calls.push({ hash, plain });
      return Promise.resolve(hash === fakeHash(plain));
    },
    ...options,
  });
  return { source, auth, calls, clock };
}

void test('missing or unparseable Authorization is "missing"', async () => {
  const { auth, calls } = harness();
  assert.deepEqual(await auth.authenticate(undefined, '192.0.2.1'), { kind: 'missing' });
  assert.deepEqual(await auth.authenticate('Bearer abc', '192.0.2.1'), { kind: 'missing' });
  assert.deepEqual(await auth.authenticate('Basic %%%', '192.0.2.1'), { kind: 'missing' });
  assert.equal(calls.length, 0);
});

void test('account password and app password verify; a cache hit skips argon2 but not the lookup', async () => {
  const { auth, calls, source } = harness();
  assert.deepEqual(await auth.authenticate(basic('alice', 'right'), '192.0.2.1'), { kind: 'ok', userId: 1, userName: 'alice', appPasswordId: null });
  assert.equal(calls.length, 1);
  assert.deepEqual(await auth.authenticate(basic('alice', 'right'), '192.0.2.1'), { kind: 'ok', userId: 1, userName: 'alice', appPasswordId: null });
  assert.equal(calls.length, 1);
  assert.equal(source.lookups, 2);

  // Account password is tried first, then the app password.
  assert.deepEqual(await auth.authenticate(basic('alice', APP_PW), '192.0.2.1'), { kind: 'ok', userId: 1, userName: 'alice', appPasswordId: 7 });
  assert.deepEqual(calls.slice(1).map((c) => c.hash), [fakeHash('right'), fakeHash(APP_PW)]);
  assert.deepEqual(await auth.authenticate(basic('alice', APP_PW), '192.0.2.1'), { kind: 'ok', userId: 1, userName: 'alice', appPasswordId: 7 });
  assert.equal(calls.length, 3);
});

void test('app passwords are accepted as a phone types them', async () => {
  const { auth } = harness();
  const outcome = await auth.authenticate(basic('alice', 'Abcd efgh jkmn pqrs'), '192.0.2.1');
  assert.deepEqual(outcome, { kind: 'ok', userId: 1, userName: 'alice', appPasswordId: 7 });
});

void test('a password that cannot be an app password costs one verification, not one per app password', async () => {
  const { auth, calls } = harness();
  assert.deepEqual(await auth.authenticate(basic('alice', 'wrong'), '192.0.2.1'), { kind: 'invalid' });
  assert.equal(calls.length, 1);
});

void test('a credentialsVersion bump by another process invalidates the cache at once', async () => {
  const { auth, calls, source } = harness();
  assert.equal((await auth.authenticate(basic('alice', 'right'), '192.0.2.1')).kind, 'ok');
  // Same hash, new version: the cached verification must not be trusted.
  source.update('alice', {});
  assert.equal((await auth.authenticate(basic('alice', 'right'), '192.0.2.1')).kind, 'ok');
  assert.equal(calls.length, 2);
  // Password changed elsewhere: the old password stops working immediately.
  source.update('alice', { passwordHash: fakeHash('new') });
  assert.deepEqual(await auth.authenticate(basic('alice', 'right'), '192.0.2.1'), { kind: 'invalid' });
  assert.equal((await auth.authenticate(basic('alice', 'new'), '192.0.2.1')).kind, 'ok');
});

void test('revoking an app password stops it even when cached', async () => {
  const { auth, source } = harness();
  assert.equal((await auth.authenticate(basic('alice', APP_PW), '192.0.2.1')).kind, 'ok');
  source.update('alice', { appPasswordHashes: [] });
  assert.deepEqual(await auth.authenticate(basic('alice', APP_PW), '192.0.2.1'), { kind: 'invalid' });
});

void test('a user deleted and recreated under the same name does not inherit cached logins', async () => {
  const { auth, source } = harness();
  assert.equal((await auth.authenticate(basic('bob', 'bobpw'), '192.0.2.1')).kind, 'ok');
  source.users.delete('bob');
  assert.deepEqual(await auth.authenticate(basic('bob', 'bobpw'), '192.0.2.1'), { kind: 'invalid' });
  source.users.set('bob', { userId: 99, userName: 'bob', passwordHash: fakeHash('other'), appPasswordHashes: [], credentialsVersion: 1 });
  assert.deepEqual(await auth.authenticate(basic('bob', 'bobpw'), '192.0.2.1'), { kind: 'invalid' });
});

void test('invalidateUser drops cached entries eagerly', async () => {
  const { auth, calls } = harness();
  await auth.authenticate(basic('alice', 'right'), '192.0.2.1');
  await auth.authenticate(basic('bob', 'bobpw'), '192.0.2.1');
  auth.invalidateUser('alice');
  await auth.authenticate(basic('alice', 'right'), '192.0.2.1');
  await auth.authenticate(basic('bob', 'bobpw'), '192.0.2.1');
  assert.deepEqual(calls.map((c) => c.plain), ['right', 'bobpw', 'right']);
});

void test('cache entries expire after the TTL and the cache stays bounded', async () => {
  const { auth, calls, clock } = harness({ cacheTtlMs: MINUTE, cacheMaxEntries: 1 });
  await auth.authenticate(basic('alice', 'right'), '192.0.2.1');
  clock.now += MINUTE - 1;
  await auth.authenticate(basic('alice', 'right'), '192.0.2.1');
  assert.equal(calls.length, 1);
  clock.now += 1;
  await auth.authenticate(basic('alice', 'right'), '192.0.2.1');
  assert.equal(calls.length, 2);
  // One entry only: bob's login evicts alice's.
  await auth.authenticate(basic('bob', 'bobpw'), '192.0.2.1');
  await auth.authenticate(basic('alice', 'right'), '192.0.2.1');
  assert.equal(calls.length, 4);
});

void test('the same password for two users never shares a cache entry', async () => {
  const { auth, source, calls } = harness();
  source.add({ userName: 'carol', passwordHash: fakeHash('shared') });
  source.add({ userName: 'dave', passwordHash: fakeHash('other') });
  assert.equal((await auth.authenticate(basic('carol', 'shared'), '192.0.2.1')).kind, 'ok');
  assert.deepEqual(await auth.authenticate(basic('dave', 'shared'), '192.0.2.1'), { kind: 'invalid' });
  assert.equal(calls.length, 2);
});

void test('an unknown user costs one real argon2 verification and is "invalid"', async () => {
  const { auth, calls } = harness();
  assert.deepEqual(await auth.authenticate(basic('mallory', 'whatever'), '192.0.2.1'), { kind: 'invalid' });
  assert.equal(calls.length, 1);
  assert.match(calls[0]?.hash ?? '', /^\$argon2id\$/);
});

void test('a user with nothing to verify against still spends one verification', async () => {
  const { auth, source, calls } = harness();
  source.add({ userName: 'erin' });
  assert.deepEqual(await auth.authenticate(basic('erin', 'x'), '192.0.2.1'), { kind: 'invalid' });
  assert.equal(calls.length, 1);
});

void test('per-user throttling: wrong passwords are throttled, the right one is still served', async () => {
  const { auth, calls, clock } = harness({ maxFailuresPerUser: 3, maxFailuresPerAddress: 100, failureWindowMs: 15 * MINUTE });
  for (let i = 0; i < 3; i++) {
    // Different addresses each time: the per-user counter must catch a distributed attack.
    assert.deepEqual(await auth.authenticate(basic('alice', `guess${i}`), `198.51.100.${i}`), { kind: 'invalid' });
    clock.now += 1000;
  }
  const throttled = await auth.authenticate(basic('alice', 'guess3'), '198.51.100.50');
  assert.equal(throttled.kind, 'throttled');
  assert.ok(throttled.kind === 'throttled' && throttled.retryAfterSeconds >= 1 && throttled.retryAfterSeconds <= 15 * 60);
  // Throttled requests are still verified.
  assert.equal(calls.length, 4);

  // The owner's device, cold (no cache entry yet) and from a fresh address, gets in.
  assert.deepEqual(await auth.authenticate(basic('alice', 'right'), '203.0.113.9'), { kind: 'ok', userId: 1, userName: 'alice', appPasswordId: null });
  assert.deepEqual(await auth.authenticate(basic('alice', APP_PW), '203.0.113.9'), { kind: 'ok', userId: 1, userName: 'alice', appPasswordId: 7 });
  // ... and the success did not reset the attacker's progress.
  assert.equal((await auth.authenticate(basic('alice', 'guess4'), '198.51.100.51')).kind, 'throttled');
  // Other users are unaffected.
  assert.deepEqual(await auth.authenticate(basic('bob', 'nope'), '198.51.100.52'), { kind: 'invalid' });
});

void test('user-name case variants share one per-user counter', async () => {
  const { auth } = harness({ maxFailuresPerUser: 2, maxFailuresPerAddress: 100 });
  await auth.authenticate(basic('alice', 'x'), '198.51.100.1');
  await auth.authenticate(basic('Alice', 'x'), '198.51.100.2');
  assert.equal((await auth.authenticate(basic('ALICE', 'x'), '198.51.100.3')).kind, 'throttled');
});

void test('per-address throttling covers spraying many user names, and counts IPv6 per /64', async () => {
  const { auth } = harness({ maxFailuresPerUser: 100, maxFailuresPerAddress: 3 });
  for (let i = 0; i < 3; i++) await auth.authenticate(basic(`user${i}`, 'x'), `2001:db8:5:6::${i + 1}`);
  assert.equal((await auth.authenticate(basic('user9', 'x'), '2001:db8:5:6::ffff')).kind, 'throttled');
  // The right password from the throttled network still works.
  assert.equal((await auth.authenticate(basic('bob', 'bobpw'), '2001:db8:5:6::abcd')).kind, 'ok');
  // A different /64 is a different client.
  assert.deepEqual(await auth.authenticate(basic('user9', 'x'), '2001:db8:5:7::1'), { kind: 'invalid' });
});

void test('retryAfter counts down and the throttle lifts when the window passes', async () => {
  const window = 15 * MINUTE;
  const { auth, clock } = harness({ maxFailuresPerUser: 2, maxFailuresPerAddress: 100, failureWindowMs: window });
  const start = clock.now;
  await auth.authenticate(basic('alice', 'a'), '198.51.100.1');
  clock.now += 10_000;
  await auth.authenticate(basic('alice', 'b'), '198.51.100.1');
  clock.now += 10_000;
  // This failure is recorded too, so the window slides: the earliest remaining failure is at +10 s.
  assert.deepEqual(await auth.authenticate(basic('alice', 'c'), '198.51.100.1'), { kind: 'throttled', retryAfterSeconds: (window - 10_000) / 1000 });
  clock.now = start + 10_000 + window - 1;
  assert.equal((await auth.authenticate(basic('alice', 'd'), '198.51.100.1')).kind, 'throttled');
  // The attacker stopped; once the window has passed they are back to plain "invalid".
  clock.now += window + 1;
  assert.deepEqual(await auth.authenticate(basic('alice', 'e'), '198.51.100.1'), { kind: 'invalid' });
});

interface Gate {
  readonly hash: string;
  readonly plain: string;
  readonly release: () => void;
}

function slowHarness(options: AuthenticatorOptions): Harness & { gates: Gate[] } {
  const gates: Gate[] = [];
  const h = harness({
    ...options,
    verify: (hash, plain) =>
      new Promise<boolean>((resolve) => {
        gates.push({ hash, plain, release: () => resolve(hash === fakeHash(plain)) });
      }),
  });
  return { ...h, gates };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function drain(gates: Gate[], pending: Promise<unknown>[]): Promise<void> {
  let done = false;
  const all = Promise.all(pending).then(() => {
    done = true;
  });
  while (!done) {
    gates.shift()?.release();
    await settle();
  }
  await all;
}

void test('a full verification queue answers "busy" without verifying', async () => {
  const { auth, gates } = slowHarness({ maxConcurrentVerifications: 1, maxQueuedVerifications: 2 });
  const pending = [0, 1, 2].map((i) => auth.authenticate(basic('bob', `w${i}`), '192.0.2.1'));
  await settle();
  assert.equal(gates.length, 1);
  const refused = await auth.authenticate(basic('bob', 'w3'), '192.0.2.1');
  assert.equal(refused.kind, 'busy');
  assert.ok(refused.kind === 'busy' && refused.retryAfterSeconds >= 1);
  await drain(gates, pending);
  assert.deepEqual(await Promise.all(pending), [{ kind: 'invalid' }, { kind: 'invalid' }, { kind: 'invalid' }]);
});

void test('throttled requests may only take half the queue', async () => {
  const { auth, gates } = slowHarness({ maxConcurrentVerifications: 1, maxQueuedVerifications: 2, maxFailuresPerAddress: 1, maxFailuresPerUser: 100 });
  const first = auth.authenticate(basic('bob', 'wrong'), '198.51.100.1');
  await settle();
  gates.shift()?.release();
  assert.deepEqual(await first, { kind: 'invalid' });
  // 198.51.100.1 is now throttled. One of its requests runs, one waits, the next is refused ...
  const pending = [auth.authenticate(basic('bob', 'a'), '198.51.100.1'), auth.authenticate(basic('bob', 'b'), '198.51.100.1')];
  await settle();
  assert.equal((await auth.authenticate(basic('bob', 'c'), '198.51.100.1')).kind, 'busy');
  // ... while an unthrottled client still gets a place.
  pending.push(auth.authenticate(basic('bob', 'bobpw'), '203.0.113.1'));
  await settle();
  await drain(gates, pending);
  const outcomes = await Promise.all(pending);
  assert.deepEqual(outcomes.map((o) => o.kind), ['throttled', 'throttled', 'ok']);
});

void test('concurrent requests with the same credential share one verification', async () => {
  const { auth, gates } = slowHarness({});
  const pending = [0, 1, 2, 3].map(() => auth.authenticate(basic('alice', 'right'), '192.0.2.1'));
  await settle();
  assert.equal(gates.length, 1);
  await drain(gates, pending);
  for (const outcome of await Promise.all(pending)) assert.equal(outcome.kind, 'ok');
});

void test('a verification in flight during invalidateUser does not refill the cache', async () => {
  const { auth, gates, source } = slowHarness({});
  const inFlight = auth.authenticate(basic('alice', 'right'), '192.0.2.1');
  await settle();
  auth.invalidateUser('alice');
  gates.shift()?.release();
  assert.equal((await inFlight).kind, 'ok');
  // Not cached: the next request verifies again (a gate appears).
  const next = auth.authenticate(basic('alice', 'right'), '192.0.2.1');
  await settle();
  assert.equal(gates.length, 1);
  await drain(gates, [next]);
  assert.equal(source.lookups, 2);
});

void test('what the source reads with the credentials comes back with each success, as read by that request, and never with a failure', async () => {
  let displayName = 'Alice';
  let lookups = 0;
  const record: CredentialRecord = { userId: 1, userName: 'alice', passwordHash: fakeHash('right'), appPasswordHashes: [], credentialsVersion: 1 };
  const auth = new Authenticator<{ displayName: string }>(
    {
      lookup: (name) => {
        lookups++;
        return Promise.resolve(name === 'alice' ? { ...record, account: { displayName } } : null);
      },
    },
    { verify: (hash, plain) => Promise.resolve(hash === fakeHash(plain)) },
  );
  assert.deepEqual(await auth.authenticate(basic('alice', 'right'), '192.0.2.1'), { kind: 'ok', userId: 1, userName: 'alice', appPasswordId: null, account: { displayName: 'Alice' } });
  displayName = 'Alice B.';
  // A cache hit: no verification, but the account is the one this request's lookup read.
  assert.deepEqual(await auth.authenticate(basic('alice', 'right'), '192.0.2.1'), { kind: 'ok', userId: 1, userName: 'alice', appPasswordId: null, account: { displayName: 'Alice B.' } });
  assert.equal(lookups, 2);
  assert.deepEqual(await auth.authenticate(basic('alice', 'wrong'), '192.0.2.1'), { kind: 'invalid' });
});
