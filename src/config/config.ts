// The one typed configuration: defaults, then an optional JSON config file, then ALMANAC_*
// environment variables, then command-line flags — validated together so an error names the
// setting and where it came from. Imports nothing of ours.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

const MiB = 1024 * 1024;

export const configSchema = z
  .object({
    host: z.string().min(1),
    port: z.coerce.number().int().min(0).max(65535),
    data: z.string().min(1),
    /** Empty: SQLite in the data folder. postgres://…: one PostgreSQL database shared by every node. */
    database: z.string().refine((v) => v === '' || /^postgres(?:ql)?:\/\//u.test(v), 'must be empty (SQLite in the data folder) or a postgres:// URL'),
    /**
     * Optional: a streaming replica of `database` (postgres://…, read-only) that answers calendar and
     * address book queries and multigets whenever it holds the collection as new as the primary does.
     */
    databaseReplica: z.string().refine((v) => v === '' || /^postgres(?:ql)?:\/\//u.test(v), 'must be empty or a postgres:// URL of a replica of database'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    /** Largest request body accepted at all (413 beyond). */
    maxBodyBytes: z.coerce.number().int().min(1024),
    /** Largest single calendar object, contact or file (RFC 4791 max-resource-size). */
    maxResourceSize: z.coerce.number().int().min(1024),
    /** Time allowed to receive all request headers, and the whole request. */
    headersTimeoutMs: z.coerce.number().int().min(1000),
    requestTimeoutMs: z.coerce.number().int().min(1000),
    /** How long in-flight requests may run after SIGTERM before the process exits anyway. */
    shutdownGraceMs: z.coerce.number().int().min(0),
    /** Take the client address from X-Forwarded-For (only behind a reverse proxy you control). */
    trustProxy: z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')]),
    realm: z.string().min(1),
    /** How long deletions stay in the change log for incremental sync (RFC 6578 tombstones). */
    tombstoneRetentionDays: z.coerce.number().min(1),
    /** How often the change log is pruned. */
    pruneIntervalMs: z.coerce.number().int().min(1000),
    /**
     * The V8 old-space limit of each `serve` worker, in MiB (0: Node's own, a quarter of the machine's
     * memory up to 4 GiB). V8 keeps what it grew to while building a large answer; the limit makes it
     * collect sooner. A listing is built whole before it is sent, so the limit also caps the largest
     * collection one request can list: about 700 members per MiB.
     */
    workerHeapMb: z.coerce.number().int().min(0),
    /** Where alarms (an unexpected release) are also POSTed as JSON; empty = log, metric and /readyz only. */
    alarmWebhook: z.union([z.literal(''), z.url({ protocol: /^https?$/u })]),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

export const DEFAULTS: Config = {
  host: '127.0.0.1',
  port: 5232,
  data: './data',
  database: '',
  databaseReplica: '',
  logLevel: 'info',
  workerHeapMb: 512,
  maxBodyBytes: 20 * MiB,
  maxResourceSize: 10 * MiB,
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 120_000,
  shutdownGraceMs: 10_000,
  trustProxy: false,
  realm: 'Almanac',
  tombstoneRetentionDays: 90,
  pruneIntervalMs: 3_600_000,
  alarmWebhook: '',
};

/** ALMANAC_MAX_BODY_BYTES ↔ maxBodyBytes */
export function envName(key: keyof Config): string {
  return `ALMANAC_${key.replace(/[A-Z]/gu, (c) => `_${c}`).toUpperCase()}`;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Layer = { source: string; values: Record<string, unknown> };

function fromEnvironment(env: NodeJS.ProcessEnv): Layer {
  const values: Record<string, unknown> = {};
  for (const key of Object.keys(DEFAULTS) as (keyof Config)[]) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') values[key] = value;
  }
  return { source: 'environment', values };
}

function fromFile(path: string): Layer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a JSON object`);
  }
  return { source: `config file ${path}`, values: parsed as Record<string, unknown> };
}

/**
 * Merges the layers (later wins) and validates. `flags` holds only the options given on the command
 * line; `configFile` comes from --config or ALMANAC_CONFIG.
 */
export function loadConfig(flags: Partial<Record<keyof Config, unknown>>, env: NodeJS.ProcessEnv = process.env, configFile?: string): Config {
  const filePath = configFile ?? env.ALMANAC_CONFIG;
  const layers: Layer[] = [
    ...(filePath === undefined || filePath === '' ? [] : [fromFile(filePath)]),
    fromEnvironment(env),
    { source: 'command line', values: Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) },
  ];
  const merged: Record<string, unknown> = { ...DEFAULTS };
  const origin: Record<string, string> = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer.values)) {
      merged[key] = value;
      origin[key] = layer.source;
    }
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      if (issue.code === 'unrecognized_keys') return `unknown setting(s) ${issue.keys.join(', ')}`;
      const where = origin[key] ?? 'default';
      const hint = key in DEFAULTS ? ` (flag --${key.replace(/[A-Z]/gu, (c) => `-${c.toLowerCase()}`)}, env ${envName(key as keyof Config)})` : '';
      return `invalid ${key}${hint} from ${where}: ${issue.message}`;
    });
    throw new ConfigError(problems.join('; '));
  }
  return { ...result.data, data: resolve(result.data.data) };
}
