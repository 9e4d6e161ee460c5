// DavError, and the ONE place where domain errors become HTTP answers: a status plus, where RFCs
// define one, a <D:error> body naming the precondition that failed. Internal errors never leak
// detail to the wire. Must not import protocol plugins or src/http.
import {
  AlreadyExists,
  ConflictingPath,
  EtagMismatch,
  NotFound,
  QuotaExceeded,
  StoreInconsistent,
  StoreUnavailable,
  UidConflict,
} from '../store/errors.ts';
import { clark, dav, type ClarkName } from './xml/names.ts';
import { XmlParseError } from './xml/parse.ts';
import { el, type XmlElement } from './xml/tree.ts';
import { writeError } from './xml/multistatus.ts';
import { emptyResponse, xmlResponse, type DavResponse } from './request.ts';

export class DavError extends Error {
  override readonly name = 'DavError';
  readonly status: number;
  readonly condition: XmlElement | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, message: string, condition?: XmlElement | ClarkName, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.condition = typeof condition === 'string' ? el(condition) : condition;
    this.headers = headers;
  }
}

/** Builds the answer to a UID clash: the precondition the protocol names, holding the other href. */
export type UidConflictRenderer = (error: UidConflict) => DavError | undefined;

export interface ErrorMapping {
  /** Protocol plugins name the precondition for a UID clash in their collection type. */
  readonly uidConflict?: UidConflictRenderer;
}

/** Our own namespace for the human-readable reason inside DAV:error (clients ignore what they don't know). */
const MESSAGE = clark('http://almanac.invalid/ns', 'message');

/** What the client sees for an error, and whether it must be logged as an internal fault. */
export function errorToResponse(error: unknown, mapping: ErrorMapping = {}): { response: DavResponse; internal: boolean } {
  const davError = toDavError(error, mapping);
  if (davError === undefined) {
    return { response: emptyResponse(500, { 'Content-Type': 'text/plain; charset=utf-8' }), internal: true };
  }
  const headers: Record<string, string> = { ...davError.headers };
  if (davError.status === 304) return { response: emptyResponse(304, headers), internal: false };
  if (davError.condition !== undefined) {
    return { response: xmlResponse(davError.status, writeError([davError.condition, el(MESSAGE, davError.message)]), headers), internal: false };
  }
  return {
    response: { status: davError.status, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers }, body: `${davError.message}\n` },
    internal: false,
  };
}

function toDavError(error: unknown, mapping: ErrorMapping): DavError | undefined {
  if (error instanceof DavError) return error;
  if (error instanceof XmlParseError) return new DavError(400, `The request body is not acceptable XML (${error.reason}).`);
  if (error instanceof StoreUnavailable) {
    return new DavError(503, 'The store is temporarily unavailable; try again shortly.', undefined, { 'Retry-After': String(error.retryAfterSeconds) });
  }
  if (error instanceof StoreInconsistent) {
    // Invariant 2: a listing shorter than the counters is never served as the truth.
    return new DavError(503, 'The server could not produce a complete answer; try again shortly.', undefined, { 'Retry-After': '5' });
  }
  if (error instanceof EtagMismatch) return new DavError(412, 'The resource changed (precondition failed).');
  if (error instanceof NotFound) return new DavError(404, 'Not found.');
  if (error instanceof AlreadyExists) return new DavError(412, 'The destination exists.');
  if (error instanceof ConflictingPath) return new DavError(409, error.message);
  if (error instanceof QuotaExceeded) return new DavError(507, 'Quota exceeded.', dav('quota-not-exceeded'));
  if (error instanceof UidConflict) {
    return mapping.uidConflict?.(error) ?? new DavError(409, `The UID is already used by ${error.existingName}.`);
  }
  return undefined;
}
