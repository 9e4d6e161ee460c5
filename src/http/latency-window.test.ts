// The backfill's slow-down signal: recent p99 over the baseline taken before it started.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LatencyWindow } from './latency-window.ts';

void describe('latency window', () => {
  void it('reports 1 without enough traffic, and the ratio of recent p99 to the baseline otherwise', () => {
    const window = new LatencyWindow();
    window.markBaseline(5, 0);
    assert.equal(window.pressure(5000, 0), 1);
    for (let i = 0; i < 100; i++) window.add(0.01, 1000 + i);
    window.markBaseline(5, 2000);
    assert.equal(window.pressure(5000, 2000), 1);
    for (let i = 0; i < 100; i++) window.add(0.04, 70_000 + i);
    assert.equal(window.pressure(5000, 70_200), 4, 'four times the baseline p99');
    assert.equal(window.pressure(5000, 80_000), 1, 'old samples age out');
  });
});
