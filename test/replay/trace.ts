// Reads the client request files of test/fixtures/client-traces (.http: request line, headers, blank
// line, body byte for byte) and fills their {placeholders} from what a client learnt from earlier answers.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TRACES_DIR = fileURLToPath(new URL('../fixtures/client-traces/', import.meta.url));

export interface TraceRequest {
  /** `<client>/<file>` as in the fixture folder, e.g. `davx5/06-report-sync-collection-initial.http`. */
  readonly file: string;
  readonly method: string;
  /** Request target template, e.g. `{calendar}{object}.ics`. */
  readonly target: string;
  /** Header names as written in the file, in order (duplicates kept). */
  readonly headers: readonly (readonly [string, string])[];
  /** Body template, exactly the bytes after the first blank line (minus the file's added final newline). */
  readonly body: string;
}

/** Placeholder values a client has learnt so far; a missing one is an error, never an empty string. */
export type TraceContext = Readonly<Record<string, string | undefined>>;

const PLACEHOLDER = /\{([a-z][a-z0-9-]*)\}/gu;

/**
 * Parses one .http file. The README's rule "a single newline added at the end of the file does not
 * count" is applied as: a final LF is dropped unless it ends a CRLF line — the iCalendar and vCard
 * bodies are CRLF text whose last line break is part of the body (their files end in CRLF, with no
 * LF added), while XML bodies got one LF appended by the recorder.
 */
export function parseTrace(file: string, source: string): TraceRequest {
  const headerEnd = source.indexOf('\n\n');
  if (headerEnd < 0) throw new Error(`${file}: no blank line after the headers`);
  const head = source.slice(0, headerEnd).split('\n');
  let body = source.slice(headerEnd + 2);
  if (body.endsWith('\n') && !body.endsWith('\r\n')) body = body.slice(0, -1);

  const requestLine = /^([A-Z]+) (\S+) HTTP\/1\.1$/u.exec(head[0] ?? '');
  if (requestLine?.[1] === undefined || requestLine[2] === undefined) throw new Error(`${file}: bad request line ${JSON.stringify(head[0])}`);
  const headers: (readonly [string, string])[] = [];
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`${file}: bad header line ${JSON.stringify(line)}`);
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return { file, method: requestLine[1], target: requestLine[2], headers, body };
}

export function loadTrace(file: string): TraceRequest {
  return parseTrace(file, readFileSync(new URL(file, `file://${TRACES_DIR}`), 'utf8'));
}

/** Every request file of one client, in file-name (= lifecycle) order. */
export function traceFiles(client: string): string[] {
  return readdirSync(new URL(`${client}/`, `file://${TRACES_DIR}`))
    .filter((name) => name.endsWith('.http'))
    .sort()
    .map((name) => `${client}/${name}`);
}

/** Fills every {name} from the context; throws naming the first one the client does not know yet. */
export function fill(template: string, context: TraceContext, where: string): string {
  return template.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = context[name];
    if (value === undefined) throw new Error(`${where}: placeholder {${name}} has no value yet (an earlier step did not provide it)`);
    return value;
  });
}

export interface FilledRequest {
  readonly file: string;
  readonly method: string;
  readonly target: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string;
}

export function fillTrace(trace: TraceRequest, context: TraceContext): FilledRequest {
  return {
    file: trace.file,
    method: trace.method,
    target: fill(trace.target, context, `${trace.file} request line`),
    headers: trace.headers.map(([name, value]) => [name, fill(value, context, `${trace.file} header ${name}`)] as const),
    body: fill(trace.body, context, `${trace.file} body`),
  };
}
