// RFC 4791 §9.6 partial retrieval: renders the calendar-data a REPORT or PROPFIND asked for (component
// and property selection, expand, limit-recurrence-set, limit-freebusy-set). Imports nothing of ours
// outside src/ical; the XML parsing of the request is the caller's.
import ICAL from 'ical.js';
import { expandOccurrences, instanceEnd, toUtcMs } from './occurrences.ts';
import type { Occurrence } from './types.ts';
import { intervalOverlaps, periodMs, utcJCal } from './query-time.ts';
import type { BoundedRange } from './query-time.ts';
import { DEFAULT_MAX_INSTANCES, ExpansionLimitExceeded } from './types.ts';
import type { CalendarDataRequest, CompSelection, QueryOptions } from './types.ts';

/** jCal (RFC 7265): ical.js types it as any[]; these aliases name its shape. */
type JProperty = [string, Record<string, unknown>, string, ...unknown[]];
type JComponent = [string, JProperty[], JComponent[]];

const INSTANCE_TYPES: ReadonlySet<string> = new Set(['vevent', 'vtodo', 'vjournal']);
const RECURRENCE_PROPERTIES: ReadonlySet<string> = new Set(['rrule', 'rdate', 'exdate', 'exrule']);

/** How a copy of the stored tree is pruned. */
interface CopyPolicy {
  readonly keepComponent: (component: ICAL.Component) => boolean;
  /** The (already copied) jCal of a property, or null to drop it. */
  readonly copyProperty: (property: ICAL.Property) => JProperty | null;
}

/**
 * The calendar-data for one calendar object. `original` is the stored text and `vcalendar` its parsed,
 * timezone-prepared form. With nothing to select, expand or limit, `original` is returned unchanged,
 * byte for byte (clients compare bodies with what they PUT). Otherwise the result is re-serialised
 * (RFC 5545 §3.1: CRLF line endings, folded, ending with CRLF).
 */
export function renderCalendarData(original: string, vcalendar: ICAL.Component, request: CalendarDataRequest, options?: QueryOptions): string {
  const { comp, expand, limitRecurrenceSet, limitFreebusySet } = request;
  if (comp === undefined && expand === undefined && limitRecurrenceSet === undefined && limitFreebusySet === undefined) return original;
  const policy: CopyPolicy = {
    keepComponent: limitRecurrenceSet === undefined || expand !== undefined
      ? () => true
      : (component) => overrideImpacts(component, vcalendar, limitRecurrenceSet, options),
    copyProperty: limitFreebusySet === undefined
      ? copyJCal
      : (property) => limitFreeBusyValues(property, limitFreebusySet, options),
  };
  // §9.6: expand and limit-recurrence-set are alternatives; if both come, expand wins.
  let result = expand === undefined ? copyTree(vcalendar, policy) : expandTree(vcalendar, expand, policy, options);
  if (comp !== undefined) result = select(result, comp);
  const text = ICAL.stringify(result);
  return text.endsWith('\r\n') ? text : `${text}\r\n`;
}

function copyJCal(property: ICAL.Property): JProperty {
  return structuredClone(property.toJSON()) as JProperty;
}

function copyProperties(component: ICAL.Component, policy: CopyPolicy): JProperty[] {
  const properties: JProperty[] = [];
  for (const property of component.getAllProperties()) {
    const copy = policy.copyProperty(property);
    if (copy !== null) properties.push(copy);
  }
  return properties;
}

function copyTree(component: ICAL.Component, policy: CopyPolicy): JComponent {
  const properties = copyProperties(component, policy);
  const children: JComponent[] = [];
  for (const child of component.getAllSubcomponents()) {
    if (policy.keepComponent(child)) children.push(copyTree(child, policy));
  }
  return [component.name, properties, children];
}

/**
 * §9.6.1-4: keep the selected properties (novalue="yes": name and parameters, empty value) and the
 * selected components, recursively. VTIMEZONE survives only when selected, like any component.
 */
function select(component: JComponent, selection: CompSelection): JComponent {
  const [name, properties, children] = component;
  const keptProperties = selection.allProps ? properties : properties.flatMap((property): JProperty[] => {
    const wanted = selection.props.find((p) => p.name.toLowerCase() === property[0]);
    if (wanted === undefined) return [];
    return wanted.novalue ? [[property[0], property[1], property[2]]] : [property];
  });
  const keptChildren = selection.allComps ? children : children.flatMap((child): JComponent[] => {
    const wanted = selection.comps.find((c) => c.name.toLowerCase() === child[0]);
    return wanted === undefined ? [] : [select(child, wanted)];
  });
  return [name, keptProperties, keptChildren];
}

/**
 * §9.6.6 limit-recurrence-set: besides the master (and everything that is not an override) keep only
 * the overridden components that impact the range: "if its current start and end times overlap the
 * time range, or if the original start and end times -- the ones that would have been used if the
 * instance were not overridden -- overlap the time range".
 */
function overrideImpacts(component: ICAL.Component, vcalendar: ICAL.Component, range: BoundedRange, options?: QueryOptions): boolean {
  if (!INSTANCE_TYPES.has(component.name) || component.parent !== vcalendar) return true;
  const recurrenceId = component.getFirstPropertyValue('recurrence-id');
  if (!(recurrenceId instanceof ICAL.Time)) return true;
  const dtstart = component.getFirstPropertyValue('dtstart');
  if (!(dtstart instanceof ICAL.Time)) return true;
  const current = instanceEnd(component, dtstart, options);
  if (intervalOverlaps(current.startMs, current.endMs, range)) return true;
  const uid = component.getFirstPropertyValue('uid');
  const master = vcalendar.getAllSubcomponents(component.name)
    .find((c) => c.getFirstPropertyValue('uid') === uid && !c.hasProperty('recurrence-id'));
  const originalInstance = instanceEnd(master ?? component, recurrenceId, options);
  return intervalOverlaps(originalInstance.startMs, originalInstance.endMs, range);
}

/** §9.6.7 limit-freebusy-set: in VFREEBUSY keep only the FREEBUSY periods that overlap the range. */
function limitFreeBusyValues(property: ICAL.Property, range: BoundedRange, options?: QueryOptions): JProperty | null {
  const copy = copyJCal(property);
  if (property.name !== 'freebusy' || property.parent.name !== 'vfreebusy') return copy;
  const values: unknown[] = property.getValues();
  const kept = copy.slice(3).filter((_, i) => {
    const value = values[i];
    if (!(value instanceof ICAL.Period)) return true;
    const [start, end] = periodMs(value, options?.floatingZone);
    return intervalOverlaps(start, end, range);
  });
  return kept.length === 0 ? null : [copy[0], copy[1], copy[2], ...kept];
}

/**
 * §9.6.5 expand: every VEVENT/VTODO/VJOURNAL is replaced by one component per instance overlapping
 * the range — overrides stand for their own instances — without RRULE/RDATE/EXDATE/EXRULE, with a
 * RECURRENCE-ID when the component recurs, and DATE-TIME values of DTSTART, DTEND, DUE and
 * RECURRENCE-ID in UTC (floating ones read in the floating zone). VTIMEZONE is dropped: nothing refers
 * to it any more. DATE values (all-day) stay DATE: UTC does not apply to a date, and turning them into
 * midnight-UTC DATE-TIMEs would make all-day events timed ones. Other components (VFREEBUSY, ...) are
 * copied as they are. If expansion hits the instance cap or time budget, ExpansionLimitExceeded is
 * thrown: part of the instances would be a wrong answer.
 */
function expandTree(vcalendar: ICAL.Component, range: BoundedRange, policy: CopyPolicy, options?: QueryOptions): JComponent {
  const properties = copyProperties(vcalendar, policy);
  const children: JComponent[] = [];
  const mainType = vcalendar.getAllSubcomponents().find((c) => INSTANCE_TYPES.has(c.name))?.name;
  for (const child of vcalendar.getAllSubcomponents()) {
    if (child.name === 'vtimezone' || child.name === mainType) continue;
    children.push(copyTree(child, policy));
  }
  if (mainType !== undefined) {
    const { occurrences, truncated } = expandOccurrences(vcalendar, { start: range.start, end: range.end }, options);
    if (truncated) throw new ExpansionLimitExceeded(`The object has more instances in the expand range than this server expands (${options?.maxInstances ?? DEFAULT_MAX_INSTANCES} per object, within its time budget); ask for a shorter range or without expand.`);
    for (const occurrence of occurrences) {
      if (occurrence.component.name === mainType) children.push(instanceTree(occurrence, policy, options));
    }
  }
  return ['vcalendar', properties, children];
}

function instanceTree(occurrence: Occurrence, policy: CopyPolicy, options?: QueryOptions): JComponent {
  const source = occurrence.component;
  const zone = options?.floatingZone;
  const [name, properties, children] = copyTree(source, policy);
  const dtstart = source.getFirstPropertyValue('dtstart');
  const sourceStart = dtstart instanceof ICAL.Time ? dtstart : null;
  const out: JProperty[] = [];
  for (const property of properties) {
    const propName = property[0];
    if (RECURRENCE_PROPERTIES.has(propName) || propName === 'recurrence-id') continue;
    if (propName === 'dtstart') {
      out.push(timeProperty('dtstart', property[1], occurrence.start, occurrence.startMs));
    } else if ((propName === 'dtend' || propName === 'due') && typeof property[3] === 'string') {
      const end = source.getFirstPropertyValue(propName);
      if (!(end instanceof ICAL.Time)) {
        out.push(property);
      } else if (sourceStart === null) {
        out.push(timeProperty(propName, property[1], end, toUtcMs(end, zone)));
      } else if (end.isDate && occurrence.start.isDate) {
        // Same number of days after the instance's start as in the component (RFC 5545 §3.8.5.3).
        const instanceEndDate = occurrence.start.clone();
        instanceEndDate.addDuration(end.subtractDate(sourceStart));
        out.push(timeProperty(propName, property[1], instanceEndDate, 0));
      } else {
        // Same exact duration as in the component (RFC 5545 §3.8.5.3).
        const endMs = occurrence.startMs + toUtcMs(end, zone) - toUtcMs(sourceStart, zone);
        out.push(timeProperty(propName, property[1], end, endMs));
      }
    } else {
      out.push(property);
    }
  }
  if (occurrence.recurrenceId !== null) {
    const recurrenceId = occurrence.recurrenceId;
    const params = (source.getFirstProperty('recurrence-id')?.toJSON() as JProperty | undefined)?.[1];
    const idProperty = timeProperty('recurrence-id', params ?? {}, recurrenceId, toUtcMs(recurrenceId, zone));
    const at = out.findIndex((p) => p[0] === 'dtstart');
    out.splice(at < 0 ? out.length : at + 1, 0, idProperty);
  }
  return [name, out, children];
}

/**
 * A DTSTART/DTEND/DUE/RECURRENCE-ID property for an expanded instance: DATE values stay dates (from
 * `time`), DATE-TIME values become UTC (from `utcMs`). TZID, VALUE and RANGE parameters are dropped.
 */
function timeProperty(name: string, params: Record<string, unknown>, time: ICAL.Time, utcMs: number): JProperty {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    if (key !== 'tzid' && key !== 'value' && key !== 'range') kept[key] = value;
  }
  if (time.isDate) return [name, kept, 'date', time.toString()];
  return [name, kept, 'date-time', utcJCal(utcMs)];
}
