// CalDAV reports (RFC 4791 §7.8-7.10): calendar-query, calendar-multiget and free-busy-query.
// Candidates come from the store's indexed time bounds; each is then parsed and tested exactly, and
// the whole answer is built before it is sent.
import type ICAL from 'ical.js';
import { DavError } from '../dav/errors.ts';
import { fetchMultiget, multigetHrefs } from '../dav/multiget.ts';
import { encodePath } from '../dav/paths.ts';
import type { ReportDefinition, RequestContext } from '../dav/plugin.ts';
import type { PropRequest } from '../dav/properties/evaluate.ts';
import { responseWithData, splitDataProperty } from '../dav/properties/with-data.ts';
import { XML_CONTENT_TYPE, xmlResponse, type DavResponse } from '../dav/request.ts';
import type { Resource } from '../dav/resource.ts';
import { caldav, dav } from '../dav/xml/names.ts';
import { parseXml } from '../dav/xml/parse.ts';
import { MultistatusBuilder, writeMultistatus, type MultistatusResponse } from '../dav/xml/multistatus.ts';
import { el, findChild, textContent, type XmlElement } from '../dav/xml/tree.ts';
import { renderCalendarData } from '../ical/calendar-data.ts';
import { matchesFilter } from '../ical/filter.ts';
import { FreeBusyCollector } from '../ical/freebusy.ts';
import { parseCalendar } from '../ical/parse.ts';
import { prepareTimezones, resolveZone, zoneFromVtimezone } from '../ical/timezones.ts';
import { ExpansionLimitExceeded } from '../ical/types.ts';
import type { CalendarDataRequest, CompFilter, QueryOptions, TimeRange } from '../ical/types.ts';
import type { CollectionRecord, ObjectRecord, ObjectWithBody } from '../store/types.ts';
import { InstanceMemory, memoryZone, type InstanceVerdict } from './instance-memory.ts';
import { isCalendar, isCalendarObject } from './properties.ts';
import { parseCalendarDataRequest, parseFilter, parseQueryTimezone, parseTimeRange } from './query-xml.ts';
import { HURRIED_FILTER_MS, HURRY_AFTER_MS, QueryWork } from './query-work.ts';

const CALENDAR_DATA = caldav('calendar-data');

/** What queries in this process learnt of objects' instances (see instance-memory.ts). */
const INSTANCES = new InstanceMemory();

/** The calendar's own zone (RFC 4791 §7.3): floating times in queries are read in it. */
async function calendarZone(context: RequestContext, calendar: CollectionRecord): Promise<ICAL.Timezone | undefined> {
  const props = await context.store.getProperties({ kind: 'collection', collectionId: calendar.id });
  const byId = props.find((p) => p.name === caldav('calendar-timezone-id'));
  if (byId !== undefined) {
    const zone = resolveZone(textContent(parseXml(byId.xml)).trim());
    if (zone !== null) return zone;
  }
  const inline = props.find((p) => p.name === caldav('calendar-timezone'));
  if (inline === undefined) return undefined;
  try {
    return zoneFromVtimezone(textContent(parseXml(inline.xml)));
  } catch {
    // Stored values were validated when set; an unusable one falls back to UTC rather than failing queries.
    return undefined;
  }
}

function parseStored(object: ObjectWithBody): { text: string; vcalendar: ICAL.Component } {
  const text = Buffer.from(object.body).toString('utf8');
  const vcalendar = parseCalendar(text);
  prepareTimezones(vcalendar);
  return { text, vcalendar };
}

interface CalendarReportRequest {
  readonly props: PropRequest;
  readonly calendarData: CalendarDataRequest | undefined;
}

function splitCalendarData(body: XmlElement): CalendarReportRequest {
  const { props, dataElement } = splitDataProperty(body, CALENDAR_DATA);
  return { props, calendarData: dataElement === undefined ? undefined : parseCalendarDataRequest(dataElement) };
}

function needsParsing(data: CalendarDataRequest): boolean {
  return data.comp !== undefined || data.expand !== undefined || data.limitRecurrenceSet !== undefined || data.limitFreebusySet !== undefined;
}

function objectResponse(
  context: RequestContext,
  resource: Resource & { kind: 'object' },
  href: string,
  object: ObjectWithBody,
  request: CalendarReportRequest,
  options: QueryOptions,
  parsed?: { text: string; vcalendar: ICAL.Component },
): Promise<MultistatusResponse> {
  const data = request.calendarData;
  const render = (): string => {
    if (data === undefined || !needsParsing(data)) return parsed?.text ?? Buffer.from(object.body).toString('utf8');
    const source = parsed ?? parseStored(object);
    return renderCalendarData(source.text, source.vcalendar, data, options);
  };
  return responseWithData(context, resource, href, request.props, data === undefined ? undefined : { name: CALENDAR_DATA, render })
    .catch((error: unknown) => {
      if (!(error instanceof ExpansionLimitExceeded)) throw error;
      // Part of the instances would be a wrong answer: this href says why it has none (RFC 5323 §3 condition).
      return { href, status: 507, error: el(dav('number-of-matches-within-limits')), description: error.message };
    });
}

/** RFC 4791 §7.8: the calendar objects a calendar-query matches, in one complete answer. */
async function calendarQuery(context: RequestContext, resource: Resource, body: XmlElement): Promise<DavResponse> {
  const filter = parseFilter(findChild(body, caldav('filter')));
  const request = splitCalendarData(body);
  const calendar = resource.kind === 'object' || resource.kind === 'collection' ? resource.collection : undefined;
  if (calendar === undefined) throw new DavError(403, 'calendar-query applies to calendars.', dav('supported-report'));
  const floatingZone = parseQueryTimezone(body) ?? (await calendarZone(context, calendar));
  const options: QueryOptions = floatingZone === undefined ? {} : { floatingZone };

  const instanceRange = instanceTimeRange(filter);
  // What this process remembers of an object's instances (by ETag) decides without parsing it: one
  // whose instances all miss the range is neither read nor parsed; under a filter that is only that
  // time-range, one with an instance in the range matches.
  const zone = memoryZone(options.floatingZone);
  const verdict = (object: ObjectRecord): InstanceVerdict =>
    instanceRange === undefined || object.component !== instanceRange.component ? 'unknown' : INSTANCES.verdict(object.etag, instanceRange.range, zone);
  const mayMatch = (object: ObjectRecord): boolean => verdict(object) !== 'no';
  const decidedByTime = instanceRange?.only === true && (request.calendarData === undefined || !needsParsing(request.calendarData));
  const candidates =
    resource.kind === 'object'
      ? await context.store.getObjectsWithBodies(calendar.id, [resource.object.name])
      : await context.store.queryObjects(calendar.id, { ...candidateQuery(filter), mayMatch });
  const responses: MultistatusResponse[] = [];
  const work = new QueryWork();
  for (const object of candidates) {
    await work.between();
    const known = verdict(object);
    if (known === 'no') continue;
    const path = `${calendar.path}${object.name}`;
    const objectResource = { kind: 'object' as const, path, collection: calendar, object };
    if (known === 'yes' && decidedByTime) {
      responses.push(await objectResponse(context, objectResource, encodePath(path), object, request, options));
      continue;
    }
    const parsed = parseStored(object);
    if (instanceRange !== undefined) INSTANCES.remember(object.etag, parsed.vcalendar, zone);
    const filterOptions = work.spentMs > HURRY_AFTER_MS ? { ...options, timeBudgetMs: HURRIED_FILTER_MS } : options;
    if (!matchesFilter(parsed.vcalendar, filter, filterOptions)) continue;
    responses.push(await objectResponse(context, objectResource, encodePath(path), object, request, options, parsed));
  }
  return xmlResponse(207, writeMultistatus(responses));
}

/**
 * The time range every match must have an instance in: the filter is one comp-filter on VEVENT, VTODO
 * or VJOURNAL with a time-range (§9.7.1 then tests instances, src/ical/filter.ts instancesMatch).
 */
function instanceTimeRange(filter: CompFilter): { component: string; range: TimeRange; only: boolean } | undefined {
  const [first, ...rest] = filter.compFilters;
  if (filter.isNotDefined || filter.name.toUpperCase() !== 'VCALENDAR') return undefined;
  if (first === undefined || rest.length > 0 || first.isNotDefined || first.timeRange === undefined) return undefined;
  const component = first.name.toUpperCase();
  if (!INSTANCE_COMPONENTS.has(component)) return undefined;
  // `only`: nothing else to test, so an instance in the range is a match.
  const only = filter.propFilters.length === 0 && first.propFilters.length === 0 && first.compFilters.length === 0;
  return { component, range: first.timeRange, only };
}

const INSTANCE_COMPONENTS: ReadonlySet<string> = new Set(['VEVENT', 'VTODO', 'VJOURNAL']);

/** Narrows candidates by component type and time bounds when the filter's shape allows it. */
function candidateQuery(filter: CompFilter): { componentType?: string; overlapping?: { start: number | null; end: number | null } } {
  const [only, ...rest] = filter.compFilters;
  if (only === undefined || rest.length > 0 || only.isNotDefined) return {};
  return { componentType: only.name, ...(only.timeRange === undefined ? {} : { overlapping: only.timeRange }) };
}

/** RFC 4791 §7.9: every href answered — found objects with their properties, others as 404. */
async function calendarMultiget(context: RequestContext, _resource: Resource, body: XmlElement): Promise<DavResponse> {
  const request = splitCalendarData(body);
  const hrefs = multigetHrefs(body);
  const hits = await fetchMultiget(context, hrefs, 'calendars');
  const zones = new Map<number, QueryOptions>();
  const answer = new MultistatusBuilder();
  const work = new QueryWork();
  // Unparsed calendar-data is the stored bytes, escaped as bytes (with-data.ts) rather than decoded.
  const data = request.calendarData;
  const stored = data === undefined || needsParsing(data) ? undefined : { name: CALENDAR_DATA };
  for (const href of hrefs) {
    await work.between();
    const hit = hits.get(href);
    if (hit === undefined) {
      answer.add({ href, status: 404 });
      continue;
    }
    const resource = { kind: 'object' as const, path: `${hit.collection.path}${hit.object.name}`, collection: hit.collection, object: hit.object };
    if (stored !== undefined) {
      answer.add(await responseWithData(context, resource, href, request.props, { ...stored, render: () => hit.object.body }));
      continue;
    }
    let options = zones.get(hit.collection.id);
    if (options === undefined) {
      // The zone only matters to data that is parsed (expand, limit-*, component selection); the
      // calendar's properties are not read otherwise.
      const floatingZone = data === undefined ? undefined : await calendarZone(context, hit.collection);
      options = floatingZone === undefined ? {} : { floatingZone };
      zones.set(hit.collection.id, options);
    }
    answer.add(await objectResponse(context, resource, href, hit.object, request, options));
  }
  return { status: 207, headers: { 'Content-Type': XML_CONTENT_TYPE }, body: answer.finishBytes() };
}

/** RFC 4791 §7.10: busy time of a calendar as one VFREEBUSY. */
async function freeBusyQuery(context: RequestContext, resource: Resource, body: XmlElement): Promise<DavResponse> {
  if (resource.kind !== 'collection') throw new DavError(403, 'free-busy-query applies to calendars.', dav('supported-report'));
  const rangeElement = findChild(body, caldav('time-range'));
  if (rangeElement === undefined) throw new DavError(400, 'free-busy-query needs a time-range.');
  const range = parseTimeRange(rangeElement);
  if (range.start === null || range.end === null) throw new DavError(400, 'free-busy-query needs a time-range with start and end.');
  const floatingZone = await calendarZone(context, resource.collection);
  // A prefilter only: objects stored as never busy (transparent, cancelled, tasks) are not read at all.
  const candidates = await context.store.queryObjects(resource.collection.id, { overlapping: range, mayBeBusy: true });
  const collector = new FreeBusyCollector({ start: range.start, end: range.end }, floatingZone === undefined ? {} : { floatingZone });
  const work = new QueryWork();
  for (const object of candidates) {
    if (object.component !== 'VEVENT' && object.component !== 'VFREEBUSY') continue;
    await work.between();
    try {
      collector.add(parseStored(object).vcalendar);
    } catch (error) {
      if (error instanceof ExpansionLimitExceeded) throw new DavError(507, error.message, dav('number-of-matches-within-limits'));
      throw error;
    }
  }
  const text = collector.render();
  return { status: 200, headers: { 'Content-Type': 'text/calendar; charset=utf-8' }, body: text };
}

const onCalendarOrObject = (resource: Resource): boolean => isCalendar(resource) || isCalendarObject(resource);

export const CALDAV_REPORTS: readonly ReportDefinition[] = [
  { name: caldav('calendar-query'), appliesTo: onCalendarOrObject, handle: calendarQuery },
  { name: caldav('calendar-multiget'), appliesTo: onCalendarOrObject, handle: calendarMultiget },
  { name: caldav('free-busy-query'), appliesTo: isCalendar, handle: freeBusyQuery },
];
