// Tests for the client-address keys failed logins are counted under.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressThrottleKey } from './address-key.ts';

void test('IPv4 addresses count individually', () => {
  assert.equal(addressThrottleKey('192.0.2.7'), '192.0.2.7');
  assert.notEqual(addressThrottleKey('192.0.2.7'), addressThrottleKey('192.0.2.8'));
});

void test('IPv4-mapped IPv6 counts as the IPv4 address', () => {
  assert.equal(addressThrottleKey('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(addressThrottleKey('::ffff:c000:207'), '192.0.2.7');
});

void test('IPv6 addresses count per /64', () => {
  const a = addressThrottleKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd');
  assert.equal(a, '2001:db8:1:2::/64');
  assert.equal(addressThrottleKey('2001:db8:1:2::1'), a);
  assert.equal(addressThrottleKey('2001:0db8:0001:0002:0:0:0:ffff'), a);
  assert.equal(addressThrottleKey('[2001:db8:1:2::9]'), a);
  assert.equal(addressThrottleKey('2001:db8:1:2::9%eth0'), a);
  assert.notEqual(addressThrottleKey('2001:db8:1:3::1'), a);
  assert.equal(addressThrottleKey('::1'), '0:0:0:0::/64');
  assert.equal(addressThrottleKey('fe80::1:2:3:4'), 'fe80:0:0:0::/64');
  assert.equal(addressThrottleKey('64:ff9b::192.0.2.7'), '64:ff9b:0:0::/64');
});

void test('anything else still gets a key of its own', () => {
  assert.equal(addressThrottleKey(''), 'other:');
  assert.equal(addressThrottleKey('/run/almanac.sock'), 'other:/run/almanac.sock');
  assert.notEqual(addressThrottleKey('not an address'), addressThrottleKey('192.0.2.7'));
});
