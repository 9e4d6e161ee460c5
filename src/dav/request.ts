// The transport-neutral request and response the DAV server works on, so tests can call
// DavServer.handle() in-process without a socket. Must not import src/http.

export interface DavRequest {
  readonly method: string;
  /** The request-target as sent (still percent-encoded), e.g. `/calendars/alice/default/`. */
  readonly target: string;
  /** Header names in lower case. Repeated headers are joined with ', '. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Uint8Array;
  readonly requestId: string;
  readonly clientAddress: string;
}

export interface DavResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
}

export const XML_CONTENT_TYPE = 'application/xml; charset=utf-8';

export function xmlResponse(status: number, body: string, extraHeaders: Record<string, string> = {}): DavResponse {
  return { status, headers: { 'Content-Type': XML_CONTENT_TYPE, ...extraHeaders }, body };
}

export function emptyResponse(status: number, headers: Record<string, string> = {}): DavResponse {
  return { status, headers };
}

export function header(request: DavRequest, name: string): string | undefined {
  return request.headers[name.toLowerCase()];
}
