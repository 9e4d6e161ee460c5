// The alarm webhook: delivered as JSON, retried after a refusal, and never throwing when unreachable.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import pino from 'pino';
import { sendAlarmWebhook, type AlarmPayload } from './alarm-webhook.ts';

const payload: AlarmPayload = { alarm: 'unexpected-release', reason: 'release 9.9.9 is not expected', version: '9.9.9', host: 'h', pid: 1, resolve: 'almanac release expect 9.9.9 --approved-by NAME', at: new Date(0).toISOString() };
const quiet = pino({ level: 'silent' });

async function receiver(statuses: number[]): Promise<{ server: Server; url: string; bodies: unknown[] }> {
  const bodies: unknown[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push({ method: request.method, type: request.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
      response.statusCode = statuses.shift() ?? 200;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies };
}

void describe('alarm webhook', () => {
  void it('POSTs the alarm as JSON and retries after a refusal', async () => {
    const hook = await receiver([500, 204]);
    try {
      assert.equal(await sendAlarmWebhook(hook.url, payload, quiet, { backoffMs: () => 10 }), true);
      assert.equal(hook.bodies.length, 2);
      assert.deepEqual(hook.bodies[1], { method: 'POST', type: 'application/json', body: payload });
    } finally {
      hook.server.close();
    }
  });

  void it('gives up after its attempts without throwing when nobody listens', async () => {
    const hook = await receiver([]);
    const { url } = hook;
    await new Promise((resolve) => hook.server.close(resolve));
    assert.equal(await sendAlarmWebhook(url, payload, quiet, { attempts: 2, backoffMs: () => 10 }), false);
  });

  void it('stops retrying when the node stops', async () => {
    const hook = await receiver([500, 500, 500]);
    try {
      const stopping = new AbortController();
      const sent = sendAlarmWebhook(hook.url, payload, quiet, { backoffMs: () => 60_000, signal: stopping.signal });
      while (hook.bodies.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      stopping.abort();
      assert.equal(await sent, false);
      assert.equal(hook.bodies.length, 1);
    } finally {
      hook.server.close();
    }
  });
});
