// Command-line flags shared by run.ts and peers.ts: the scenario budgets, the seed, the query month
// and the sizes of the address book and the phone workload, with the --quick variants.
import type { parseArgs } from 'node:util';
import { BenchFailure, type SuiteOptions } from './suite.ts';

export const SUITE_FLAGS = {
  quick: { type: 'boolean', default: false },
  sizes: { type: 'string' },
  'duration-seconds': { type: 'string' },
  'max-requests': { type: 'string' },
  concurrency: { type: 'string' },
  'seed-concurrency': { type: 'string' },
  'seed-timeout-seconds': { type: 'string' },
  seed: { type: 'string' },
  month: { type: 'string' },
  contacts: { type: 'string' },
  'phone-users': { type: 'string' },
  'phone-events': { type: 'string' },
  'phone-concurrency': { type: 'string' },
  only: { type: 'string' },
  help: { type: 'boolean', default: false },
} as const;

export const SUITE_USAGE = `[--quick] [--sizes 1000,10000] [--only calendar,contacts,phone]
      [--duration-seconds N] [--max-requests N] [--concurrency C] [--seed-concurrency C]
      [--seed-timeout-seconds N] [--seed S] [--month 2026-03] [--contacts 1000,10000]
      [--phone-users N] [--phone-events N] [--phone-concurrency 1,8,32]`;

export type SuitePart = 'calendar' | 'contacts' | 'phone';

export interface ParsedSuiteFlags {
  readonly sizes: readonly number[];
  readonly parts: ReadonlySet<SuitePart>;
  readonly suite: SuiteOptions;
}

export function positive(flag: string, text: string | undefined, fallback: number, integer = true): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isSafeInteger(value))) throw new BenchFailure(`--${flag} must be a positive ${integer ? 'integer' : 'number'}, got ${text}`);
  return value;
}

function list(flag: string, text: string): number[] {
  return text.split(',').map((s) => positive(flag, s.trim(), 0));
}

type Values = ReturnType<typeof parseArgs<{ options: typeof SUITE_FLAGS; strict: true }>>['values'];

/** Reads the shared flags; `defaults` gives the sizes and durations of the calling script. */
export function suiteFlags(values: Partial<Values>, defaults: { readonly sizes: readonly number[]; readonly quickSizes: readonly number[]; readonly adaptive: boolean; readonly requestTimeoutMs: number }): ParsedSuiteFlags {
  const quick = values.quick === true;
  const sizes = values.sizes === undefined ? (quick ? defaults.quickSizes : defaults.sizes) : list('sizes', values.sizes);
  if (values.seed !== undefined && !/^\d+$/u.test(values.seed)) throw new BenchFailure(`--seed must be a non-negative integer, got ${values.seed}`);
  const monthText = values.month ?? '2026-03';
  const month = /^(\d{4})-(\d\d)$/u.exec(monthText);
  if (month === null || Number(month[2]) < 1 || Number(month[2]) > 12) throw new BenchFailure(`--month must look like 2026-03, got ${monthText}`);
  const year = Number(month[1]);
  const monthIndex = Number(month[2]) - 1;
  const parts = new Set<SuitePart>();
  for (const part of (values.only ?? 'calendar,contacts,phone').split(',')) {
    const name = part.trim();
    if (name !== 'calendar' && name !== 'contacts' && name !== 'phone') throw new BenchFailure(`--only takes calendar, contacts and phone, got ${name}`);
    parts.add(name);
  }
  const phoneConcurrency = values['phone-concurrency'] === undefined ? [1, 8, 32] : list('phone-concurrency', values['phone-concurrency']);
  const phoneUsers = positive('phone-users', values['phone-users'], quick ? 32 : 40);
  return {
    sizes,
    parts,
    suite: {
      durationSeconds: positive('duration-seconds', values['duration-seconds'], quick ? 3 : 10, false),
      maxRequests: positive('max-requests', values['max-requests'], 20_000),
      concurrency: positive('concurrency', values.concurrency, 8),
      seedConcurrency: positive('seed-concurrency', values['seed-concurrency'], 8),
      seedTimeoutSeconds: positive('seed-timeout-seconds', values['seed-timeout-seconds'], 900, false),
      seed: values.seed === undefined ? 42 : Number(values.seed),
      month: { start: Date.UTC(year, monthIndex, 1), end: Date.UTC(year, monthIndex + 1, 1) },
      contacts: values.contacts === undefined ? [quick ? 500 : 5000] : list('contacts', values.contacts),
      phoneUsers: Math.max(phoneUsers, 1),
      phoneEvents: positive('phone-events', values['phone-events'], quick ? 20 : 100),
      phoneConcurrency,
      adaptive: defaults.adaptive,
      requestTimeoutMs: defaults.requestTimeoutMs,
    },
  };
}
