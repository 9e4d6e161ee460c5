// The supervisor's status file in the data folder: which process supervises, which worker serves,
// and the outcome of the latest restart, so `almanac restart` can trigger one and report how it
// ended. Must not import the store, HTTP or DAV layers.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const STATUS_FILE = 'almanac.supervisor.json';

export interface RestartOutcome {
  /** Counts restarts asked for since the supervisor started; 0 before the first. */
  readonly attempt: number;
  readonly state: 'none' | 'running' | 'done' | 'failed';
  readonly message: string;
  readonly at: string;
}

export interface SupervisorStatus {
  readonly pid: number;
  readonly workerPid: number | undefined;
  readonly url: string | undefined;
  readonly restart: RestartOutcome;
}

export function statusFile(dataDir: string): string {
  return join(dataDir, STATUS_FILE);
}

export function writeStatus(dataDir: string, status: SupervisorStatus): void {
  const file = statusFile(dataDir);
  // Written aside and renamed, so a reader never sees half a file.
  writeFileSync(`${file}.tmp`, `${JSON.stringify(status)}\n`);
  renameSync(`${file}.tmp`, file);
}

export function readStatus(dataDir: string): SupervisorStatus | undefined {
  const file = statusFile(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SupervisorStatus;
  } catch {
    return undefined;
  }
}

/** Removes the file if it is still this supervisor's. */
export function removeStatus(dataDir: string, pid: number): void {
  if (readStatus(dataDir)?.pid === pid) rmSync(statusFile(dataDir), { force: true });
}
