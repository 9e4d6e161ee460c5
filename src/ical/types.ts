// Shared types of the iCalendar domain: time ranges, the calendar-query filter tree, calendar-data
// selection, and the errors validation raises. Imports nothing of ours but the RangeTest type (ical.js types besides).
import type ICAL from 'ical.js';
import type { RangeTest } from './occurrence-time.ts';

/**
 * A time range in UTC epoch milliseconds, as in RFC 4791 §9.9: `start` inclusive, `end` exclusive;
 * `null` means unbounded on that side.
 */
export interface TimeRange {
  readonly start: number | null;
  readonly end: number | null;
}

/** The CalDAV precondition a rejected calendar object violates (RFC 4791 §5.3.2.1). */
export type CalendarPrecondition = 'valid-calendar-data' | 'valid-calendar-object-resource' | 'supported-calendar-component';

export class InvalidCalendarObject extends Error {
  override readonly name = 'InvalidCalendarObject';
  readonly precondition: CalendarPrecondition;
  constructor(precondition: CalendarPrecondition, message: string, options?: ErrorOptions) {
    super(message, options);
    this.precondition = precondition;
  }
}

/** What the store keeps about a calendar object, extracted once at write time. */
export interface CalendarObjectInfo {
  readonly uid: string;
  /** VEVENT, VTODO, VJOURNAL, VFREEBUSY or VAVAILABILITY: the one component type of the resource. */
  readonly componentType: string;
  /**
   * Earliest instant (ms) any instance of the object can touch, and the latest; null = unbounded.
   * Conservative: floating times carry ±14 h of slack so no query time zone can make them miss.
   * A time-range query only needs to parse objects whose [firstStart, lastEnd] overlaps it.
   */
  readonly firstStart: number | null;
  readonly lastEnd: number | null;
  /** Whether the object can contribute busy time to a free-busy answer (see freebusy.ts mayBeBusy). */
  readonly mayBeBusy: boolean;
}

/**
 * An answer that needs every instance of an object in a range (expand, free-busy) could not have
 * them: the instance cap or the time budget stopped the expansion. The caller says so instead of
 * answering with part of them.
 */
export class ExpansionLimitExceeded extends Error {
  override readonly name = 'ExpansionLimitExceeded';
}

/** RFC 4790 collations CalDAV and CardDAV use for text-match. */
export type Collation = 'i;ascii-casemap' | 'i;octet' | 'i;unicode-casemap';

export interface TextMatch {
  readonly text: string;
  readonly collation: Collation;
  readonly negate: boolean;
  /** CalDAV text-match is always a substring match ('contains'); the others are for CardDAV. */
  readonly matchType: 'equals' | 'contains' | 'starts-with' | 'ends-with';
}

export interface ParamFilter {
  readonly name: string;
  readonly isNotDefined: boolean;
  readonly textMatch?: TextMatch;
}

export interface PropFilter {
  readonly name: string;
  readonly isNotDefined: boolean;
  readonly timeRange?: TimeRange;
  readonly textMatch?: TextMatch;
  readonly paramFilters: readonly ParamFilter[];
}

/** RFC 4791 §9.7.1: the root is always a comp-filter on VCALENDAR. */
export interface CompFilter {
  readonly name: string;
  readonly isNotDefined: boolean;
  readonly timeRange?: TimeRange;
  readonly propFilters: readonly PropFilter[];
  readonly compFilters: readonly CompFilter[];
}

/** RFC 4791 §9.6.1-2: which components and properties calendar-data returns. */
export interface CompSelection {
  readonly name: string;
  /** true for <allprop/> (or when no <prop> is given). */
  readonly allProps: boolean;
  readonly props: readonly { readonly name: string; readonly novalue: boolean }[];
  /** true for <allcomp/> (or when no <comp> is given). */
  readonly allComps: boolean;
  readonly comps: readonly CompSelection[];
}

/** RFC 4791 §9.6: the calendar-data element of a REPORT or PROPFIND. */
export interface CalendarDataRequest {
  readonly comp?: CompSelection;
  /** §9.6.5: both bounds are required by the RFC; the caller rejects requests without them. */
  readonly expand?: { readonly start: number; readonly end: number };
  readonly limitRecurrenceSet?: { readonly start: number; readonly end: number };
  readonly limitFreebusySet?: { readonly start: number; readonly end: number };
}

/** Options every query-time computation takes. */
export interface QueryOptions {
  /**
   * The zone that floating times (and DATE values) are read in: the query's C:timezone /
   * timezone-id, else the calendar's, else UTC (RFC 4791 §7.3, RFC 7809 §3.1.6).
   */
  readonly floatingZone?: ICAL.Timezone;
  /** Upper bound on instances expanded per object, so a hostile rule cannot stall the server. */
  readonly maxInstances?: number;
  /**
   * CPU time (ms) one object's expansion may take before it stops as truncated (the conservative
   * answers then apply), whatever the shape of its rules.
   */
  readonly timeBudgetMs?: number;
}

/** One instance of a (possibly recurring) component. */
export interface Occurrence {
  /** The VEVENT/VTODO/VJOURNAL this instance comes from: the master, or the override for its RECURRENCE-ID. */
  readonly component: ICAL.Component;
  /** UTC instants in ms; for floating/DATE values resolved in QueryOptions.floatingZone. end ≥ start. */
  readonly startMs: number;
  readonly endMs: number;
  /** The instance's start in its own zone (what RECURRENCE-ID / DTSTART show). */
  readonly start: ICAL.Time;
  /** null for a non-recurring component. */
  readonly recurrenceId: ICAL.Time | null;
  /** The RFC 4791 §9.9 test a time range must pass to meet this instance. */
  readonly test: RangeTest;
}

export const DEFAULT_MAX_INSTANCES = 20_000;
export const DEFAULT_TIME_BUDGET_MS = 250;
