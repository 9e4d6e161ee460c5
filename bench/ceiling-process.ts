// The ceiling server's process: a minimal node:http server that answers each request with the
// prebuilt response recorded for its X-Bench-Scenario label (from Almanac's own answers), so it costs
// only what HTTP and the bytes cost. Started by ceiling.ts with the recording's path in argv.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

interface Prebuilt {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

const file = process.argv[2];
if (file === undefined || process.send === undefined) throw new Error('bench/ceiling-process.ts is started by bench/ceiling.ts');
const answers = new Map<string, Prebuilt>();
for (const line of readFileSync(file, 'utf8').split('\n')) {
  if (line === '') continue;
  const entry = JSON.parse(line) as { label: string; status: number; headers: Record<string, string>; body: string };
  const body = Buffer.from(entry.body, 'base64');
  answers.set(entry.label, { status: entry.status, headers: { ...entry.headers, 'Content-Length': String(body.byteLength) }, body });
}

const server = createServer((request, response) => {
  // The request body is read (and dropped) like a real server must before answering.
  request.resume();
  request.on('end', () => {
    const label = request.headers['x-bench-scenario'];
    const answer = typeof label === 'string' ? answers.get(label) : undefined;
    if (answer === undefined) {
      response.writeHead(404, { 'Content-Length': '0' }).end();
      return;
    }
    response.writeHead(answer.status, answer.headers).end(answer.body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0 });
});
process.on('message', (message) => {
  if (message === 'stop') server.close(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
