// The ceiling of peers.ts: records the first answer Almanac gives for each scenario label and later
// serves exactly those bytes from a minimal node:http server in its own process, measured by the same
// driver. What Almanac reaches of its throughput is the share of the table.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchResponse } from './load.ts';
import { BenchFailure } from './suite.ts';
import { processRss, type StoppableTarget } from './targets.ts';

/** Keeps the first successful answer per label (setup requests excluded). */
export class Recording {
  readonly answers = new Map<string, BenchResponse>();

  readonly record = (label: string, response: BenchResponse): void => {
    if (label === 'setup' || response.status >= 300 || this.answers.has(label)) return;
    this.answers.set(label, response);
  };
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

export async function startCeiling(recording: Recording, like: Pick<StoppableTarget, 'calendarHome' | 'addressbookHome' | 'phoneAccount'>): Promise<StoppableTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ceiling-'));
  const file = join(dir, 'answers.jsonl');
  const lines: string[] = [];
  for (const [label, response] of recording.answers) {
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'etag']) {
      const value = headerText(response.headers[name]);
      if (value !== undefined) headers[name] = value;
    }
    lines.push(JSON.stringify({ label, status: response.status, headers, body: response.body.toString('base64') }));
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  const child = fork(new URL('./ceiling-process.ts', import.meta.url), [file], { stdio: ['ignore', 2, 2, 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new BenchFailure('the ceiling server did not start within 30 s')), 30_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve(Number((message as { port?: unknown }).port));
    });
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new BenchFailure('the ceiling server exited before listening'));
    });
  });
  return {
    name: 'ceiling',
    baseUrl: `http://127.0.0.1:${port}/`,
    authorization: 'Basic YmVuY2g6Y2VpbGluZw==',
    ownAlmanac: false,
    validate: false,
    calendarHome: like.calendarHome,
    addressbookHome: like.addressbookHome,
    phoneAccount: like.phoneAccount,
    httpLoadLimit: Number.MAX_SAFE_INTEGER,
    rssBytes: () => processRss(child.pid),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.send('stop');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
