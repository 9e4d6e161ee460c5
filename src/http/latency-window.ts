// Recent request latency, as the signal the background backfill slows down on: the p99 of the last
// few seconds against a baseline p99 taken before the backfill started. A fixed ring of samples so
// recording costs O(1) per request. Imports nothing of ours.

const SIZE = 4096;

export class LatencyWindow {
  private readonly at = new Float64Array(SIZE);
  private readonly ms = new Float64Array(SIZE);
  private next = 0;
  private count = 0;
  private baseline: number | undefined;

  add(seconds: number, now = Date.now()): void {
    this.at[this.next] = now;
    this.ms[this.next] = seconds * 1000;
    this.next = (this.next + 1) % SIZE;
    this.count = Math.min(SIZE, this.count + 1);
  }

  /** The p99 (ms) of requests answered in the last `windowMs`, or undefined with fewer than `minSamples`. */
  p99(windowMs: number, now = Date.now(), minSamples = 20): number | undefined {
    const recent: number[] = [];
    for (let i = 0; i < this.count; i++) {
      if ((this.at[i] ?? 0) >= now - windowMs) recent.push(this.ms[i] ?? 0);
    }
    if (recent.length < minSamples) return undefined;
    recent.sort((a, b) => a - b);
    return recent[Math.min(recent.length - 1, Math.floor(recent.length * 0.99))];
  }

  /** Takes the last minute's p99 as "normal"; never below `floorMs`, so an idle server is not over-sensitive. */
  markBaseline(floorMs = 5, now = Date.now()): void {
    this.baseline = Math.max(floorMs, this.p99(60_000, now) ?? floorMs);
  }

  /** Recent p99 over the baseline: 1 = as before; 2 = twice as slow. 1 while there is too little traffic to tell. */
  pressure(windowMs = 5000, now = Date.now()): number {
    const recent = this.p99(windowMs, now);
    if (recent === undefined || this.baseline === undefined) return 1;
    return recent / this.baseline;
  }
}
