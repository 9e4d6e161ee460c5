// Fast UTC offsets of ical.js zones, read the RFC 5545 §3.3.5 way: a local time inside a DST gap
// uses the offset before the gap, and one occurring twice means its first occurrence. ical.js's own
// Timezone#utcOffset deep-copies transition records on every call, which dominated expansion time.
// Imports nothing of ours.
import ICAL from 'ical.js';

/** ical.js's transition records: the UTC instant of the change, and the offsets (seconds) around it. */
interface Change {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly utcOffset: number;
  readonly prevUtcOffset: number;
}

interface Table {
  /** zone.changes.length when built: ical.js appends when it expands further. */
  readonly size: number;
  /** UTC instants (s) of the changes. */
  readonly instants: readonly number[];
  /** The first local time (s, wall clock read as UTC) that takes each change's offset. */
  readonly wallStarts: readonly number[];
  readonly offsets: readonly number[];
  /** The offset before the first change: the TZOFFSETFROM of the earliest onset. */
  readonly initial: number;
}

const tables = new WeakMap<ICAL.Timezone, Table>();

function build(changes: readonly Change[]): Table {
  const instants: number[] = [];
  const wallStarts: number[] = [];
  const offsets: number[] = [];
  for (const change of changes) {
    const instant = Date.UTC(change.year, change.month - 1, change.day, change.hour, change.minute, change.second) / 1000;
    instants.push(instant);
    // Spring forward: local times in [T+prev, T+new) do not exist and keep the old offset. Fall back:
    // local times in [T+new, T+prev) occur twice; the first occurrence (old offset) is meant.
    wallStarts.push(instant + Math.max(change.prevUtcOffset, change.utcOffset));
    offsets.push(change.utcOffset);
  }
  return { size: changes.length, instants, wallStarts, offsets, initial: changes[0]?.prevUtcOffset ?? 0 };
}

/**
 * Zones are expanded (by ical.js, on demand) up to this year and no further: each expansion past the
 * current end re-expands the zone from its start and appends the result, so far-future years asked
 * for one after another would grow a shared zone without bound. Later years are folded back by whole
 * 400-year Gregorian cycles (146097 days), over which weekday-based DST rules repeat exactly.
 */
export const COVERAGE_END_YEAR = 2400;
const CYCLE_YEARS = 400;
const CYCLE_SECONDS = 146_097 * 86_400;

/** How many 400-year cycles to move `year` back so that it lies in (COVERAGE_END_YEAR - 400, COVERAGE_END_YEAR]. */
function cyclesPast(year: number): number {
  return year > COVERAGE_END_YEAR ? Math.ceil((year - COVERAGE_END_YEAR) / CYCLE_YEARS) : 0;
}

/** The table of `zone` covering `year` (ical.js expands a zone's rules year by year, on demand). */
function tableFor(zone: ICAL.Timezone, year: number): Table {
  zone._ensureCoverage(Math.min(year, COVERAGE_END_YEAR));
  const changes = zone.changes as Change[];
  let table = tables.get(zone);
  if (table === undefined || table.size !== changes.length) {
    table = build(changes);
    tables.set(zone, table);
  }
  return table;
}

/** Index of the last element <= value in an ascending list, or -1. */
function lastAtOrBefore(list: readonly number[], value: number): number {
  let low = 0;
  let high = list.length - 1;
  let found = -1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if ((list[mid] as number) <= value) {
      found = mid;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return found;
}

function isFixed(zone: ICAL.Timezone): boolean {
  return zone === ICAL.Timezone.utcTimezone || zone === ICAL.Timezone.localTimezone || zone.component === null;
}

/** The UTC offset (s) of a local wall-clock time `wallSeconds` (its fields read as if UTC) of `year` in `zone`. */
export function offsetOfWallTime(zone: ICAL.Timezone, wallSeconds: number, year: number): number {
  if (isFixed(zone)) return 0;
  const cycles = cyclesPast(year);
  const table = tableFor(zone, year - cycles * CYCLE_YEARS);
  const index = lastAtOrBefore(table.wallStarts, wallSeconds - cycles * CYCLE_SECONDS);
  return index === -1 ? table.initial : (table.offsets[index] as number);
}

/** The UTC offset (s) in `zone` at the UTC instant `utcSeconds`. */
export function offsetAtInstant(zone: ICAL.Timezone, utcSeconds: number): number {
  if (isFixed(zone)) return 0;
  const year = new Date(utcSeconds * 1000).getUTCFullYear() + 1;
  const cycles = cyclesPast(year);
  const table = tableFor(zone, year - cycles * CYCLE_YEARS);
  const index = lastAtOrBefore(table.instants, utcSeconds - cycles * CYCLE_SECONDS);
  return index === -1 ? table.initial : (table.offsets[index] as number);
}

/**
 * The lowest UTC offset (s) `zone` has at any instant of [fromSeconds, toSeconds]: the one in force at
 * the start and that of every change inside. A wall-clock time (as floating seconds) below
 * fromSeconds + this offset is read, in this zone, as an instant before fromSeconds or after toSeconds.
 */
export function lowestOffset(zone: ICAL.Timezone, fromSeconds: number, toSeconds: number): number {
  if (isFixed(zone)) return 0;
  let lowest = offsetAtInstant(zone, fromSeconds);
  const year = new Date(toSeconds * 1000).getUTCFullYear() + 1;
  const cycles = cyclesPast(new Date(fromSeconds * 1000).getUTCFullYear());
  const table = tableFor(zone, year - cycles * CYCLE_YEARS);
  const from = fromSeconds - cycles * CYCLE_SECONDS;
  const to = toSeconds - cycles * CYCLE_SECONDS;
  for (let index = lastAtOrBefore(table.instants, from) + 1; index < table.instants.length && (table.instants[index] as number) <= to; index++) {
    lowest = Math.min(lowest, table.offsets[index] as number);
  }
  return lowest;
}
