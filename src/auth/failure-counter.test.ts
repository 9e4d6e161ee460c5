// Tests for the sliding-window failure counter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailureCounter } from './failure-counter.ts';

void test('a key is over the limit after `limit` failures within the window', () => {
  const counter = new FailureCounter(3, 1000, 100);
  counter.record('k', 0);
  counter.record('k', 100);
  assert.equal(counter.isOver('k', 200), false);
  assert.equal(counter.retryAfterMs('k', 200), 0);
  counter.record('k', 200);
  assert.equal(counter.isOver('k', 200), true);
  // Frees up when the oldest of the last three failures leaves the window.
  assert.equal(counter.retryAfterMs('k', 300), 700);
  assert.equal(counter.isOver('k', 999), true);
  assert.equal(counter.isOver('k', 1000), false);
  assert.equal(counter.isOver('other', 200), false);
});

void test('continued failures keep the window sliding', () => {
  const counter = new FailureCounter(2, 1000, 100);
  for (let t = 0; t <= 5000; t += 500) counter.record('k', t);
  assert.equal(counter.isOver('k', 5000), true);
  assert.equal(counter.retryAfterMs('k', 5000), 500);
  assert.equal(counter.isOver('k', 6001), false);
});

void test('memory stays bounded when keys rotate', () => {
  const counter = new FailureCounter(3, 1000, 50);
  for (let i = 0; i < 10_000; i++) counter.record(`addr-${i}`, i / 100);
  assert.equal(counter.size, 50);
  // The most recent keys survive; the oldest were dropped.
  assert.equal(counter.retryAfterMs('addr-9999', 100), 0);
  counter.record('addr-9999', 100);
  counter.record('addr-9999', 100);
  assert.equal(counter.isOver('addr-9999', 100), true);
});

void test('expired keys are dropped before live ones', () => {
  const counter = new FailureCounter(1, 1000, 2);
  counter.record('old', 0);
  counter.record('live', 1500);
  counter.record('new', 1600); // 'old' has expired, so nothing live is evicted
  assert.equal(counter.size, 2);
  assert.equal(counter.isOver('live', 1600), true);
  assert.equal(counter.isOver('new', 1600), true);
});

void test('long keys are counted like short ones', () => {
  const counter = new FailureCounter(2, 1000, 10);
  const long = 'x'.repeat(10_000);
  counter.record(long, 0);
  counter.record(long, 1);
  assert.equal(counter.isOver(long, 2), true);
  assert.equal(counter.retryAfterMs(long, 2), 998);
  assert.equal(counter.isOver(`${long}y`, 2), false);
});
