// Delivers an alarm to the operator's webhook (config `alarmWebhook`): a JSON POST, retried with
// backoff, because the log line alone can go unread on an unattended box. Imports no store or DAV code.
import type { Logger } from 'pino';

export interface AlarmPayload {
  readonly alarm: string;
  readonly reason: string;
  readonly version: string;
  readonly host: string;
  readonly pid: number;
  /** The command that would resolve the alarm, when there is one. */
  readonly resolve?: string;
  readonly at: string;
}

export interface WebhookOptions {
  readonly attempts?: number;
  readonly timeoutMs?: number;
  /** Wait before the n-th retry (n from 1). */
  readonly backoffMs?: (retry: number) => number;
  /** Ends the retries early (the node is stopping). */
  readonly signal?: AbortSignal;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * POSTs the payload; resolves true once an attempt gets a 2xx, false after the last attempt failed.
 * Never throws: a broken webhook must not take the node down with it.
 */
export async function sendAlarmWebhook(url: string, payload: AlarmPayload, logger: Logger, options: WebhookOptions = {}): Promise<boolean> {
  const attempts = options.attempts ?? 4;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const backoffMs = options.backoffMs ?? ((retry: number) => 1_000 * 5 ** (retry - 1));
  for (let attempt = 1; attempt <= attempts && options.signal?.aborted !== true; attempt++) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'User-Agent': 'almanac-alarm' },
        body: JSON.stringify(payload),
        signal: options.signal === undefined ? AbortSignal.timeout(timeoutMs) : AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)]),
      });
      await response.body?.cancel();
      if (response.ok) return true;
      logger.warn({ alarm: payload.alarm, status: response.status, attempt }, 'alarm webhook refused the alarm');
    } catch (error) {
      logger.warn({ alarm: payload.alarm, err: error, attempt }, 'alarm webhook unreachable');
    }
    if (attempt < attempts) await sleep(backoffMs(attempt), options.signal);
  }
  if (options.signal?.aborted === true) return false;
  logger.error({ alarm: payload.alarm, attempts }, 'alarm webhook gave up; the alarm stays in the log, /readyz and the metrics');
  return false;
}
