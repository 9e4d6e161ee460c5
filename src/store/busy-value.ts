// The value an object_busy row holds, shared by both stores' write paths and the backfill so a row
// never depends on which of them wrote it. Imports nothing.

/**
 * 1 may add busy time, 0 never, -1 unknown (looked at every time). The backfill's rule: only VEVENT
 * and VFREEBUSY can be busy — a vCard or a task never is, so the write path says 0 for them too
 * (their metadata carries no mayBeBusy).
 */
export function busyValue(component: string | null | undefined, mayBeBusy: boolean | null | undefined): number {
  if (component !== undefined && component !== null && component !== 'VEVENT' && component !== 'VFREEBUSY') return 0;
  return mayBeBusy === true ? 1 : mayBeBusy === false ? 0 : -1;
}
