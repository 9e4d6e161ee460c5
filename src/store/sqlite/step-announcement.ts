// A migration step announces itself in a small file beside the database while it holds the write
// lock: which step, since when, and how long its rehearsal says it takes. A request that finds the
// store locked reads it to answer 503 with a Retry-After derived from the step's remaining time
// (DESIGN.md §6). A file and not a row, because a row would sit behind the very lock it describes.
// Must not import DAV or HTTP.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { processAlive } from './data-dir.ts';

export interface StepAnnouncement {
  readonly version: number;
  readonly name: string;
  readonly pid: number;
  readonly startedAt: number;
  /** The step's wall time in the latest rehearsal of this migration set; null when never rehearsed. */
  readonly expectedMs: number | null;
}

/** Retry-After when the store is locked but no step says for how long: a batch or a write, ≤ 100 ms. */
export const DEFAULT_BUSY_RETRY_SECONDS = 1;
/** A step with no rehearsed duration, or one past it, is asked about again after this. */
const UNKNOWN_STEP_RETRY_SECONDS = 5;
/** Clients should come back within minutes even when a rehearsal predicted a very long step. */
const MAX_RETRY_SECONDS = 300;

export function announcementFile(databaseFile: string): string {
  return `${databaseFile}-migration-step.json`;
}

export function announceStep(databaseFile: string, step: StepAnnouncement): void {
  const file = announcementFile(databaseFile);
  // Written beside and renamed, so a reader never sees half a file.
  writeFileSync(`${file}.tmp`, JSON.stringify(step));
  renameSync(`${file}.tmp`, file);
}

export function clearStep(databaseFile: string): void {
  rmSync(announcementFile(databaseFile), { force: true });
}

/** The step running now, or undefined (no file, unreadable, or left behind by a process that died). */
export function currentStep(databaseFile: string): StepAnnouncement | undefined {
  let step: StepAnnouncement;
  try {
    step = JSON.parse(readFileSync(announcementFile(databaseFile), 'utf8')) as StepAnnouncement;
  } catch {
    return undefined;
  }
  return typeof step.startedAt === 'number' && processAlive(step.pid) ? step : undefined;
}

/** Seconds until the step is expected to release the lock, at least 1. */
export function retryAfterSeconds(step: StepAnnouncement | undefined, now: number): number {
  if (step === undefined) return DEFAULT_BUSY_RETRY_SECONDS;
  if (step.expectedMs === null) return UNKNOWN_STEP_RETRY_SECONDS;
  const remainingMs = step.startedAt + step.expectedMs - now;
  if (remainingMs <= 0) return UNKNOWN_STEP_RETRY_SECONDS;
  return Math.min(MAX_RETRY_SECONDS, Math.max(1, Math.ceil(remainingMs / 1000)));
}
