// CardDAV reports (RFC 6352 §8.6, §8.7): addressbook-query, served from the search index stored at
// write time (cards are parsed only when the index cannot decide), with limit truncation reported as
// §8.6.2 says; and addressbook-multiget, answering every href.
import type ICAL from 'ical.js';
import { DavError } from '../dav/errors.ts';
import { fetchMultiget, multigetHrefs } from '../dav/multiget.ts';
import { encodePath } from '../dav/paths.ts';
import type { ReportDefinition, RequestContext } from '../dav/plugin.ts';
import type { PropRequest } from '../dav/properties/evaluate.ts';
import { responseWithData, splitDataProperty } from '../dav/properties/with-data.ts';
import { XML_CONTENT_TYPE, xmlResponse, type DavResponse } from '../dav/request.ts';
import type { Resource } from '../dav/resource.ts';
import { carddav, dav } from '../dav/xml/names.ts';
import { MultistatusBuilder, writeMultistatus, type MultistatusResponse } from '../dav/xml/multistatus.ts';
import { el, findChild, type XmlElement } from '../dav/xml/tree.ts';
import { StoreError } from '../store/errors.ts';
import type { CollectionRecord, ObjectWithBody, SearchNarrowing } from '../store/types.ts';
import { renderAddressData, type AddressDataRequest } from '../vcard/address-data.ts';
import { indexPrefilter, indexSatisfies, matchesCardFilter } from '../vcard/filter.ts';
import { parseCard } from '../vcard/validate.ts';
import { searchNarrowing } from '../vcard/search-index.ts';
import { CardIndexCache, parseIndexedCard, type IndexedCard } from './index-cache.ts';
import { SEARCH_TEXTS } from './search-text-cache.ts';
import { parseAddressDataRequest, parseCardFilter, parseLimit } from './query-xml.ts';

const ADDRESS_DATA = carddav('address-data');

/** Parsed search indexes kept between queries, per process (see index-cache.ts). */
const INDEXES = new CardIndexCache(20_000);

interface CardReportRequest {
  readonly props: PropRequest;
  readonly addressData: AddressDataRequest | undefined;
}

function splitAddressData(body: XmlElement): CardReportRequest {
  const { props, dataElement } = splitDataProperty(body, ADDRESS_DATA);
  return { props, addressData: dataElement === undefined ? undefined : parseAddressDataRequest(dataElement) };
}

function sendsStoredText(data: AddressDataRequest): boolean {
  return data.version === undefined && (data.allProps || (data.props ?? []).length === 0);
}

function cardResponse(
  context: RequestContext,
  book: CollectionRecord,
  object: ObjectWithBody,
  href: string,
  request: CardReportRequest,
  parsed?: ICAL.Component,
): Promise<MultistatusResponse> {
  const resource = { kind: 'object' as const, path: `${book.path}${object.name}`, collection: book, object };
  const data = request.addressData;
  const render = (): string => {
    const text = Buffer.from(object.body).toString('utf8');
    // Everything in the stored version is the stored text byte for byte (address-data.ts): a stored
    // card was validated when written, and needs no parse to be sent as it is.
    if (data === undefined || sendsStoredText(data)) return text;
    return renderAddressData(text, parsed ?? parseCard(text), data);
  };
  return responseWithData(context, resource, href, request.props, data === undefined ? undefined : { name: ADDRESS_DATA, render });
}

/**
 * The parsed index of every card the narrowing keeps (every indexed card without one): narrowed in
 * memory from this process's copy of the book's index texts (search-text-cache.ts), or by the store
 * when that copy cannot serve (a book too large to hold, a failure). The exact index check still
 * judges every card returned.
 */
async function indexedCandidates(context: RequestContext, book: CollectionRecord, narrowing: SearchNarrowing | null): Promise<IndexedCard[]> {
  try {
    const texts = await SEARCH_TEXTS.texts(context.store, await context.store.epoch(), book);
    if (texts !== undefined) {
      return narrowing === null ? INDEXES.cards(book.id, texts.all()) : texts.narrow(narrowing).map((row) => parseIndexedCard(row.name, row.searchIndex));
    }
  } catch (error) {
    // Never a wrong answer, nor a lost one: the store's own narrowing answers, or fails as it would have.
    if (!(error instanceof StoreError)) process.emitWarning(`addressbook-query: in-memory narrowing failed, the store narrows instead: ${String(error)}`);
  }
  return narrowing === null
    ? INDEXES.cards(book.id, await context.store.listSearchIndex(book.id))
    : (await context.store.listSearchIndex(book.id, narrowing)).flatMap((row) => (row.searchIndex === null ? [] : [parseIndexedCard(row.name, row.searchIndex)]));
}

async function addressbookQuery(context: RequestContext, resource: Resource, body: XmlElement): Promise<DavResponse> {
  if (resource.kind !== 'collection') throw new DavError(403, 'addressbook-query applies to address books.', dav('supported-report'));
  const book = resource.collection;
  const filter = parseCardFilter(findChild(body, carddav('filter')));
  const limit = parseLimit(body);
  const request = splitAddressData(body);

  const prefilter = indexPrefilter(filter);
  let candidates: ObjectWithBody[];
  let decided = false;
  if (prefilter === null) {
    candidates = await context.store.queryObjects(book.id, {});
  } else {
    const cards = await indexedCandidates(context, book, searchNarrowing(prefilter));
    const names = cards.filter((card) => indexSatisfies(card.index, prefilter, card.folded)).map((card) => card.name);
    candidates = await context.store.getObjectsWithBodies(book.id, names);
    decided = prefilter.exact;
  }

  const matches: { object: ObjectWithBody; card: ICAL.Component | undefined }[] = [];
  for (const object of candidates.sort((a, b) => a.name.localeCompare(b.name))) {
    if (decided) {
      matches.push({ object, card: undefined });
      continue;
    }
    const card = parseCard(Buffer.from(object.body).toString('utf8'));
    if (matchesCardFilter(card, filter)) matches.push({ object, card });
  }
  const truncated = limit !== null && matches.length > limit;
  const responses: MultistatusResponse[] = [];
  for (const { object, card } of truncated ? matches.slice(0, limit) : matches) {
    responses.push(await cardResponse(context, book, object, encodePath(`${book.path}${object.name}`), request, card));
  }
  // RFC 6352 §8.6.2: a truncated result says so on the request-URI, not counted among the results.
  if (truncated) responses.push({ href: encodePath(book.path), status: 507, error: el(dav('number-of-matches-within-limits')) });
  return xmlResponse(207, writeMultistatus(responses));
}

async function addressbookMultiget(context: RequestContext, _resource: Resource, body: XmlElement): Promise<DavResponse> {
  const request = splitAddressData(body);
  const hrefs = multigetHrefs(body);
  const hits = await fetchMultiget(context, hrefs, 'addressbooks');
  const answer = new MultistatusBuilder();
  // A card sent as stored is its bytes, escaped as bytes (with-data.ts) rather than decoded.
  const stored = request.addressData !== undefined && sendsStoredText(request.addressData);
  for (const href of hrefs) {
    const hit = hits.get(href);
    if (hit === undefined) {
      answer.add({ href, status: 404 });
    } else if (stored) {
      const resource = { kind: 'object' as const, path: `${hit.collection.path}${hit.object.name}`, collection: hit.collection, object: hit.object };
      answer.add(await responseWithData(context, resource, href, request.props, { name: ADDRESS_DATA, render: () => hit.object.body }));
    } else {
      answer.add(await cardResponse(context, hit.collection, hit.object, href, request));
    }
  }
  return { status: 207, headers: { 'Content-Type': XML_CONTENT_TYPE }, body: answer.finishBytes() };
}

const isAddressbook = (resource: Resource): boolean => resource.kind === 'collection' && resource.collection.kind === 'addressbook';
const isCard = (resource: Resource): boolean => resource.kind === 'object' && resource.collection.kind === 'addressbook';

export const CARDDAV_REPORTS: readonly ReportDefinition[] = [
  { name: carddav('addressbook-query'), appliesTo: isAddressbook, handle: addressbookQuery },
  { name: carddav('addressbook-multiget'), appliesTo: (r) => isAddressbook(r) || isCard(r), handle: addressbookMultiget },
];
