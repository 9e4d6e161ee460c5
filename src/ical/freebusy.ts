// RFC 4791 §7.10 free-busy-query: folds the events and stored free-busy data of a calendar into one
// VFREEBUSY. Imports nothing of ours outside src/ical; choosing the objects to read is the caller's.
import ICAL from 'ical.js';
import { expandOccurrences } from './occurrences.ts';
import { periodMs, utcJCal } from './query-time.ts';
import type { BoundedRange } from './query-time.ts';
import { ExpansionLimitExceeded } from './types.ts';
import type { QueryOptions } from './types.ts';

/** Order of FREEBUSY lines that start together; unknown (x-name) types sort after these. */
const TYPE_ORDER = ['BUSY', 'BUSY-UNAVAILABLE', 'BUSY-TENTATIVE', 'FREE'];
const FBTYPE = /^[A-Za-z0-9-]+$/;

/**
 * The VCALENDAR answering a free-busy-query over `range` (UTC ms, both bounds required):
 *
 * - each VEVENT instance overlapping the range, clipped to it, per the §7.10 table: skipped when
 *   TRANSP:TRANSPARENT or STATUS:CANCELLED, BUSY-TENTATIVE when STATUS:TENTATIVE, BUSY otherwise
 *   (CONFIRMED, none or an x-name). Overrides count for their instances. DATE (all-day) and floating
 *   times are read in `options.floatingZone` (default UTC). VTODO and VJOURNAL never block time.
 * - each FREEBUSY period of a stored VFREEBUSY, clipped, with its own FBTYPE (default BUSY).
 * - VAVAILABILITY (RFC 7953) is ignored: this server does not compute availability.
 *
 * Periods of the same FBTYPE are merged where they overlap or touch and are written one per FREEBUSY
 * line in UTC, ordered by start. BUSY is written without the FBTYPE parameter (its default, RFC 5545
 * §3.2.9), like the §7.10 example; every other type carries it. DTSTAMP is `options.now` (default now).
 * An expansion cut short by the instance cap or time budget throws ExpansionLimitExceeded: busy time
 * left out would be a wrong answer.
 */
export function freeBusy(
  objects: Iterable<ICAL.Component>,
  range: BoundedRange,
  options?: QueryOptions & { readonly now?: number },
): string {
  const collector = new FreeBusyCollector(range, options);
  for (const vcalendar of objects) collector.add(vcalendar);
  return collector.render();
}

/** freeBusy() one object at a time, so a caller can let other work run between objects. */
export class FreeBusyCollector {
  readonly #range: BoundedRange;
  readonly #options: (QueryOptions & { readonly now?: number }) | undefined;
  readonly #periods = new Map<string, [number, number][]>();

  constructor(range: BoundedRange, options?: QueryOptions & { readonly now?: number }) {
    this.#range = range;
    this.#options = options;
  }

  #add(type: string, startMs: number, endMs: number): void {
    const start = Math.max(startMs, this.#range.start);
    const end = Math.min(endMs, this.#range.end);
    if (start >= end) return;
    let list = this.#periods.get(type);
    if (list === undefined) this.#periods.set(type, (list = []));
    list.push([start, end]);
  }

  /** Folds in one calendar object; throws ExpansionLimitExceeded when its instances cannot all be had. */
  add(vcalendar: ICAL.Component): void {
    const range = this.#range;
    const options = this.#options;
    if (vcalendar.getFirstSubcomponent('vevent') !== null) {
      const { occurrences, truncated } = expandOccurrences(vcalendar, { start: range.start, end: range.end }, options);
      if (truncated) throw new ExpansionLimitExceeded('An event has more instances in the range than this server expands; ask for a shorter range.');
      for (const occurrence of occurrences) {
        const type = eventBusyType(occurrence.component);
        if (type !== null) this.#add(type, occurrence.startMs, occurrence.endMs);
      }
    }
    for (const component of vcalendar.getAllSubcomponents('vfreebusy')) {
      for (const property of component.getAllProperties('freebusy')) {
        const fbtype = String(property.getFirstParameter('fbtype') ?? 'BUSY').toUpperCase();
        const type = FBTYPE.test(fbtype) ? fbtype : 'BUSY';
        for (const value of property.getValues()) {
          if (!(value instanceof ICAL.Period)) continue;
          const [start, end] = periodMs(value, options?.floatingZone);
          this.#add(type, start, end);
        }
      }
    }
  }

  /** The VCALENDAR with the VFREEBUSY of everything added. */
  render(): string {
    const range = this.#range;
    const options = this.#options;
    const periods = this.#periods;
    const lines: { type: string; start: number; end: number }[] = [];
    for (const [type, list] of periods) {
      for (const [start, end] of merge(list)) lines.push({ type, start, end });
    }
    lines.sort((a, b) => a.start - b.start || typeRank(a.type) - typeRank(b.type) || a.end - b.end || (a.type < b.type ? -1 : 1));

    const vfreebusy: unknown[] = [
      'vfreebusy',
      [
        ['dtstamp', {}, 'date-time', utcJCal(options?.now ?? Date.now())],
        ['dtstart', {}, 'date-time', utcJCal(range.start)],
        ['dtend', {}, 'date-time', utcJCal(range.end)],
        ...lines.map((line) => ['freebusy', line.type === 'BUSY' ? {} : { fbtype: line.type }, 'period', [utcJCal(line.start), utcJCal(line.end)]]),
      ],
      [],
    ];
    const vcalendar = [
      'vcalendar',
      [['version', {}, 'text', '2.0'], ['prodid', {}, 'text', '-//Almanac//Almanac//EN']],
      [vfreebusy],
    ];
    const text = ICAL.stringify(vcalendar as Parameters<typeof ICAL.stringify>[0]);
    return text.endsWith('\r\n') ? text : `${text}\r\n`;
  }
}

/** §7.10 table for a VEVENT (master or override): the FBTYPE it contributes, or null for none. */
/**
 * Whether any instance of this object could ever add busy time to a free-busy answer: false when
 * every VEVENT (master and overrides) is TRANSP:TRANSPARENT or STATUS:CANCELLED and there is no
 * FREEBUSY period, or the object is a VTODO/VJOURNAL. Stored at write time so free-busy-query skips
 * such objects (birthdays, holidays, cancelled series) without reading or expanding them.
 */
export function mayBeBusy(vcalendar: ICAL.Component): boolean {
  if (vcalendar.getAllSubcomponents('vevent').some((event) => eventBusyType(event) !== null)) return true;
  return vcalendar.getAllSubcomponents('vfreebusy').some((fb) => fb.getFirstProperty('freebusy') !== null);
}

function eventBusyType(component: ICAL.Component): string | null {
  if (component.name !== 'vevent') return null;
  const transp = String(component.getFirstPropertyValue('transp') ?? 'OPAQUE').toUpperCase();
  if (transp === 'TRANSPARENT') return null;
  const status = String(component.getFirstPropertyValue('status') ?? '').toUpperCase();
  if (status === 'CANCELLED') return null;
  return status === 'TENTATIVE' ? 'BUSY-TENTATIVE' : 'BUSY';
}

function typeRank(type: string): number {
  const rank = TYPE_ORDER.indexOf(type);
  return rank < 0 ? TYPE_ORDER.length : rank;
}

/** Sorted, with overlapping or touching periods joined. */
function merge(list: readonly [number, number][]): [number, number][] {
  const sorted = [...list].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: [number, number][] = [];
  for (const [start, end] of sorted) {
    const last = out.at(-1);
    if (last !== undefined && start <= last[1]) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}
