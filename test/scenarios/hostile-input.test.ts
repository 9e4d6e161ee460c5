// Bad and hostile input: XML bombs and entities, path tricks, encoded names, conditional requests,
// and (over a real socket) body limits and the operational endpoints.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/passwords.ts';
import { DEFAULTS, type Config } from '../../src/config/config.ts';
import { dav } from '../../src/dav/xml/names.ts';
import { textContent } from '../../src/dav/xml/tree.ts';
import { startAlmanac, type RunningAlmanac } from '../../src/http/app.ts';
import { Harness, PASSWORD, parseMultistatus, propfindBody } from '../support/harness.ts';

const XML_HEADERS = { 'content-type': 'application/xml; charset=utf-8' };

const BILLION_LAUGHS_DTD = `<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>`;

/** Entity-bearing documents: `value` is the reference placed where a property value goes. */
const ENTITY_ATTACKS = [
  { label: 'billion-laughs entity bomb', prolog: `<?xml version="1.0"?>\n${BILLION_LAUGHS_DTD}\n`, value: '&lol9;' },
  { label: 'external entity (file:///etc/passwd)', prolog: '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n', value: '&x;' },
  { label: 'external entity after a comment', prolog: '<?xml version="1.0"?><!-- hi --><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>', value: '&x;' },
  { label: 'external parameter entity (remote DTD)', prolog: '<!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]>', value: 'plain' },
] as const;

const propfindWith = (prolog: string, value: string): string =>
  `${prolog}<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>${value}</D:displayname></D:prop></D:propfind>`;
const proppatchWith = (prolog: string, value: string): string =>
  `${prolog}<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>${value}</D:displayname></D:prop></D:set></D:propertyupdate>`;

const MALFORMED: readonly { label: string; body: string | Uint8Array }[] = [
  { label: 'an unclosed element', body: '<D:propfind xmlns:D="DAV:"><D:prop>' },
  { label: 'mismatched tags', body: '<D:propfind xmlns:D="DAV:"><D:prop></D:propfind>' },
  { label: 'plain text', body: 'this is not xml' },
  { label: 'an unbound prefix', body: '<X:propfind xmlns:D="DAV:"><X:allprop/></X:propfind>' },
  { label: 'two root elements', body: '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind><D:propfind xmlns:D="DAV:"/>' },
  { label: 'invalid UTF-8', body: Buffer.concat([Buffer.from('<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('</D:displayname></D:prop></D:propfind>')]) },
  { label: 'an undefined entity', body: '<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&nope;</D:displayname></D:prop></D:propfind>' },
];

const HOSTILE_TARGETS = [
  '/files/alice/../bob/f.txt',
  '/files/alice/%2e%2e/bob/f.txt',
  '/files/alice/%2E%2E/bob/f.txt',
  '/files/alice/.%2e/bob/f.txt',
  '/files/alice/./f.txt',
  '/files/alice/a%2Fb.txt',
  '/files/alice%2F..%2Fbob/f.txt',
  '/files/alice/..%2Fbob%2Ff.txt',
  '/files/alice/x%00.txt',
  '/files/alice/x%00/../../bob/f.txt',
  '/files/alice/a\\b.txt',
  '/files/alice/..\\..\\bob\\f.txt',
  '/files/alice/a%5Cb.txt',
  '/files/alice/f.txt#x',
  '/files/alice/%zz.txt',
  '/files/alice/%C0%AF.txt',
  '/files/alice/%C0%AE%C0%AE/bob/f.txt',
  '/files/alice/%E2%82.txt',
  '/files/alice/100%.txt',
  '/files/alice/x%0d%0aSet-Cookie:%20a=b',
  // The absolute form (RFC 9112 §3.2.2) must not launder what the origin form refuses.
  'http://localhost/files/alice/../bob/f.txt',
  'http://localhost/files/alice/%2e%2e/bob/f.txt',
  'http://localhost/files/alice/victim.txt#x',
] as const;

void describe('hostile input', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice', 'bob']);
    assert.equal((await h.send('PUT', '/files/bob/f.txt', { as: h.as('bob'), body: 'bob private\n' })).status, 201);
    assert.equal((await h.send('PUT', '/files/alice/own.txt', { body: 'alice own\n' })).status, 201);
    assert.equal((await h.send('PUT', '/files/alice/victim.txt', { body: 'victim\n' })).status, 201);
  });
  after(async () => h.close());

  /** The full allprop view of alice's calendar and files: any applied change shows up here. */
  async function aliceState(): Promise<string> {
    const calendar = await h.send('PROPFIND', '/calendars/alice/default/', { headers: { depth: '0' }, body: propfindBody(dav('displayname'), dav('resourcetype')) });
    const files = await h.send('PROPFIND', '/files/alice/', { headers: { depth: '1' }, body: propfindBody(dav('getetag'), dav('displayname'), dav('resourcetype')) });
    return `${calendar.status} ${calendar.text}\n${files.status} ${files.text}`;
  }

  async function bobState(): Promise<string> {
    const file = await h.send('GET', '/files/bob/f.txt', { as: h.as('bob') });
    const listing = await h.send('PROPFIND', '/files/bob/', { as: h.as('bob'), headers: { depth: '1' }, body: propfindBody(dav('getetag')) });
    return `${file.status} ${file.headers.ETag ?? '-'} ${file.text}\n${listing.text}`;
  }

  void describe('XML bodies', () => {
    for (const attack of ENTITY_ATTACKS) {
      void it(`refuses a PROPFIND carrying a ${attack.label} with 400`, async () => {
        const response = await h.send('PROPFIND', '/calendars/alice/default/', { headers: { depth: '0', ...XML_HEADERS }, body: propfindWith(attack.prolog, attack.value) });
        assert.equal(response.status, 400, `PROPFIND with ${attack.label}: ${response.status} ${response.text.slice(0, 200)}`);
        assert.doesNotMatch(response.text, /root:|lollollol/u);
      });

      void it(`refuses a PROPPATCH carrying a ${attack.label} with 400 and applies nothing`, async () => {
        const before = await aliceState();
        for (const target of ['/calendars/alice/default/', '/files/alice/own.txt']) {
          const response = await h.send('PROPPATCH', target, { headers: XML_HEADERS, body: proppatchWith(attack.prolog, attack.value) });
          assert.equal(response.status, 400, `PROPPATCH ${target} with ${attack.label}: ${response.status} ${response.text.slice(0, 200)}`);
          assert.doesNotMatch(response.text, /root:|lollollol/u);
        }
        assert.equal(await aliceState(), before, `PROPPATCH with ${attack.label} changed stored properties`);
      });
    }

    void it('refuses entity-bearing bodies on REPORT and extended MKCOL with 400, creating nothing', async () => {
      const before = await aliceState();
      const report = await h.send('REPORT', '/calendars/alice/default/', {
        headers: { depth: '1', ...XML_HEADERS },
        body: `${ENTITY_ATTACKS[1].prolog}<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="&x;"/></C:filter></C:calendar-query>`,
      });
      assert.equal(report.status, 400, `REPORT: ${report.status} ${report.text.slice(0, 200)}`);
      const mkcol = await h.send('MKCOL', '/files/alice/entity-dir/', {
        headers: XML_HEADERS,
        body: `${ENTITY_ATTACKS[0].prolog}<D:mkcol xmlns:D="DAV:"><D:set><D:prop><D:resourcetype><D:collection/></D:resourcetype><D:displayname>&lol9;</D:displayname></D:prop></D:set></D:mkcol>`,
      });
      assert.equal(mkcol.status, 400, `extended MKCOL: ${mkcol.status} ${mkcol.text.slice(0, 200)}`);
      assert.equal(await aliceState(), before);
    });

    void it('refuses 10,000-deep nesting with 400 (PROPFIND and PROPPATCH), applying nothing', async () => {
      const deep = `${'<D:x>'.repeat(10_000)}${'</D:x>'.repeat(10_000)}`;
      const before = await aliceState();
      const propfind = await h.send('PROPFIND', '/calendars/alice/default/', { headers: { depth: '0', ...XML_HEADERS }, body: `<D:propfind xmlns:D="DAV:"><D:prop>${deep}</D:prop></D:propfind>` });
      assert.equal(propfind.status, 400);
      const proppatch = await h.send('PROPPATCH', '/calendars/alice/default/', { headers: XML_HEADERS, body: proppatchWith('', deep) });
      assert.equal(proppatch.status, 400);
      assert.equal(await aliceState(), before);
    });

    void it('refuses a body of 200,000 sibling elements with 400', async () => {
      const body = `<D:propfind xmlns:D="DAV:"><D:prop>${'<D:getetag/>'.repeat(200_000)}</D:prop></D:propfind>`;
      const response = await h.send('PROPFIND', '/calendars/alice/default/', { headers: { depth: '0', ...XML_HEADERS }, body });
      assert.equal(response.status, 400);
      const before = await aliceState();
      const patch = `<D:propertyupdate xmlns:D="DAV:" xmlns:X="urn:x"><D:set><D:prop>${'<X:p>v</X:p>'.repeat(200_000)}</D:prop></D:set></D:propertyupdate>`;
      assert.equal((await h.send('PROPPATCH', '/calendars/alice/default/', { headers: XML_HEADERS, body: patch })).status, 400);
      assert.equal(await aliceState(), before);
    });

    for (const { label, body } of MALFORMED) {
      void it(`refuses malformed XML (${label}) with 400 on PROPFIND, PROPPATCH and REPORT`, async () => {
        for (const method of ['PROPFIND', 'PROPPATCH', 'REPORT']) {
          const response = await h.send(method, '/calendars/alice/default/', { headers: { depth: '0', ...XML_HEADERS }, body });
          assert.equal(response.status, 400, `${method} with ${label}: ${response.status} ${response.text.slice(0, 200)}`);
        }
      });
    }

    void it('refuses a PROPFIND whose root is not DAV:propfind with 400', async () => {
      const bodies = [
        '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set></D:propertyupdate>',
        '<propfind><allprop/></propfind>',
        '<X:propfind xmlns:X="urn:not-dav"><X:allprop/></X:propfind>',
        '<D:propfind xmlns:D="DAV:"/>',
      ];
      for (const body of bodies) {
        const response = await h.send('PROPFIND', '/calendars/alice/default/', { headers: { depth: '0', ...XML_HEADERS }, body });
        assert.equal(response.status, 400, `PROPFIND with ${body}: ${response.status}`);
      }
    });

    void it('refuses a PROPPATCH with an empty body or another root with 400', async () => {
      const before = await aliceState();
      for (const body of ['', '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>']) {
        const response = await h.send('PROPPATCH', '/calendars/alice/default/', { headers: XML_HEADERS, body });
        assert.equal(response.status, 400, `PROPPATCH with ${JSON.stringify(body)}: ${response.status}`);
      }
      assert.equal(await aliceState(), before);
    });

    void it('answers an empty PROPFIND body as allprop with 207', async () => {
      for (const body of ['', ' \r\n']) {
        const response = await h.send('PROPFIND', '/calendars/alice/default/', { headers: { depth: '0' }, body });
        assert.equal(response.status, 207, `empty body ${JSON.stringify(body)}`);
        const [calendar] = parseMultistatus(response.text);
        assert.equal(calendar?.href, '/calendars/alice/default/');
        assert.equal(calendar.props.get(dav('resourcetype'))?.status, 'HTTP/1.1 200 OK');
        assert.equal(textContent(calendar.props.get(dav('displayname'))!.element), 'Calendar');
      }
    });
  });

  void describe('request paths', () => {
    for (const target of HOSTILE_TARGETS) {
      void it(`refuses ${target} with 400 for every method, touching nothing`, async () => {
        const aliceBefore = await aliceState();
        const bobBefore = await bobState();
        const problems: string[] = [];
        for (const method of ['GET', 'PUT', 'DELETE', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE']) {
          const response = await h.send(method, target, {
            headers: { depth: '0', destination: '/files/alice/moved.txt' },
            ...(method === 'PUT' ? { body: 'planted\n' } : method === 'PROPPATCH' ? { body: proppatchWith('', 'renamed') } : {}),
          });
          if (response.status !== 400) problems.push(`${method} ${target}: ${response.status}, expected 400 (${JSON.stringify(response.text.slice(0, 100))})`);
          if (/bob private|victim/u.test(response.text)) problems.push(`${method} ${target}: the body holds another resource's content`);
        }
        if ((await aliceState()) !== aliceBefore) problems.push(`requests to ${target} changed alice's data`);
        if ((await bobState()) !== bobBefore) problems.push(`requests to ${target} changed bob's data`);
        assert.deepEqual(problems, [], problems.join('\n'));
      });
    }

    void it('refuses hostile Destination headers without moving anything out of the home', async () => {
      const destinations = ['/files/alice/../bob/moved.txt', '/files/alice/%2e%2e/bob/moved.txt', '/files/alice/a%2Fb.txt', '/files/alice/x%00.txt', '/files/alice/%C0%AF.txt', '/files/alice/m.txt#x', 'not a url', 'http://localhost/files/alice/%zz', 'http://localhost/files/alice/m.txt#x'];
      const aliceBefore = await aliceState();
      const bobBefore = await bobState();
      const problems: string[] = [];
      for (const method of ['COPY', 'MOVE']) {
        for (const destination of destinations) {
          const response = await h.send(method, '/files/alice/own.txt', { headers: { destination } });
          if (![400, 403].includes(response.status)) problems.push(`${method} /files/alice/own.txt → ${destination}: ${response.status}, expected 400 (Location ${response.headers.Location ?? '-'})`);
        }
      }
      if ((await aliceState()) !== aliceBefore) problems.push("alice's data changed");
      if ((await bobState()) !== bobBefore) problems.push("bob's data changed");
      assert.deepEqual(problems, [], problems.join('\n'));
    });

    const NAMES = [
      { target: '/files/alice/caf%C3%A9%20menu.txt', decoded: 'café menu.txt' },
      { target: '/files/alice/100%25%20sure.txt', decoded: '100% sure.txt' },
      { target: '/files/alice/what%3F%23.txt', decoded: 'what?#.txt' },
      { target: '/files/alice/%F0%9F%93%85%20%E6%97%A5%E6%9C%AC.txt', decoded: '📅 日本.txt' },
    ];
    for (const { target, decoded } of NAMES) {
      void it(`stores ${JSON.stringify(decoded)} byte-exact and lists it as ${target}`, async () => {
        const body = Buffer.concat([Buffer.from(`${decoded}\n`, 'utf8'), Buffer.from([0x00, 0xff, 0xfe, 0x0d, 0x0a, 0x80])]);
        const put = await h.send('PUT', target, { headers: { 'content-type': 'application/octet-stream' }, body });
        assert.equal(put.status, 201, `PUT ${target}: ${put.text}`);
        assert.equal(put.headers.Location, target);
        const get = await h.send('GET', target);
        assert.equal(get.status, 200);
        assert.ok(get.raw.body instanceof Uint8Array, 'GET returned no bytes');
        assert.deepEqual(Buffer.from(get.raw.body), body);
        assert.equal(get.headers.ETag, put.headers.ETag);
        const listing = await h.send('PROPFIND', '/files/alice/', { headers: { depth: '1' }, body: propfindBody(dav('getetag')) });
        const member = parseMultistatus(listing.text).find((r) => r.href === target);
        assert.ok(member !== undefined, `${target} not listed; hrefs: ${parseMultistatus(listing.text).map((r) => r.href).join(' ')}`);
        assert.equal(textContent(member.props.get(dav('getetag'))!.element), put.headers.ETag);
        const lower = target.replace(/%[0-9A-F]{2}/gu, (escape) => escape.toLowerCase());
        const again = await h.send('GET', lower);
        assert.equal(again.status, 200, `GET ${lower}`);
        assert.deepEqual(Buffer.from(again.raw.body as Uint8Array), body);
      });
    }

    void it('does not turn a PUT to a collection URL (trailing slash) into a plain file', async () => {
      const response = await h.send('PUT', '/files/alice/not-a-folder/', { body: 'x\n' });
      assert.ok(response.status >= 400 && response.status < 500, `PUT /files/alice/not-a-folder/: ${response.status}, Location ${response.headers.Location ?? '-'}`);
      const listing = await h.send('PROPFIND', '/files/alice/', { headers: { depth: '1' } });
      const hrefs = parseMultistatus(listing.text).map((r) => r.href);
      assert.ok(!hrefs.some((href) => href.startsWith('/files/alice/not-a-folder')), `listed: ${hrefs.join(' ')}`);
    });
  });

  void describe('conditional requests', () => {
    const path = '/files/alice/conditional.txt';
    let etag = '';
    before(async () => {
      const put = await h.send('PUT', path, { body: 'version 1\n' });
      assert.equal(put.status, 201);
      etag = put.headers.ETag ?? '';
      assert.match(etag, /^"[^"]+"$/u);
    });

    async function current(): Promise<{ status: number; etag: string | undefined; text: string }> {
      const get = await h.send('GET', path);
      return { status: get.status, etag: get.headers.ETag, text: get.text };
    }

    void it('refuses PUT with If-None-Match: * on an existing object with 412, body unchanged', async () => {
      const response = await h.send('PUT', path, { headers: { 'if-none-match': '*' }, body: 'clobbered\n' });
      assert.equal(response.status, 412);
      assert.deepEqual(await current(), { status: 200, etag, text: 'version 1\n' });
    });

    void it('refuses PUT with a wrong If-Match with 412', async () => {
      for (const tag of ['"not-the-etag"', `W/${etag}`, '""']) {
        const response = await h.send('PUT', path, { headers: { 'if-match': tag }, body: 'clobbered\n' });
        assert.equal(response.status, 412, `If-Match: ${tag}`);
      }
      assert.deepEqual(await current(), { status: 200, etag, text: 'version 1\n' });
    });

    void it('accepts PUT with the right If-Match with 204 and a new ETag', async () => {
      const response = await h.send('PUT', path, { headers: { 'if-match': etag }, body: 'version 2\n' });
      assert.equal(response.status, 204);
      const next = response.headers.ETag;
      assert.ok(next !== undefined && next !== etag, `new ETag ${next} vs old ${etag}`);
      assert.deepEqual(await current(), { status: 200, etag: next, text: 'version 2\n' });
      const stale = etag;
      etag = next;

      const del = await h.send('DELETE', path, { headers: { 'if-match': stale } });
      assert.equal(del.status, 412, 'DELETE with a stale If-Match');
      assert.deepEqual(await current(), { status: 200, etag, text: 'version 2\n' });
    });

    void it('answers GET and HEAD with If-None-Match: <current etag> with 304 and no body', async () => {
      for (const method of ['GET', 'HEAD']) {
        const response = await h.send(method, path, { headers: { 'if-none-match': etag } });
        assert.equal(response.status, 304, method);
        assert.equal(response.text, '', `${method} 304 carries a body`);
        assert.equal(response.headers.ETag, etag);
      }
      const changed = await h.send('GET', path, { headers: { 'if-none-match': '"something-else"' } });
      assert.equal(changed.status, 200);
      assert.equal(changed.text, 'version 2\n');
    });
  });
});

interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

void describe('hostile input over HTTP', () => {
  const LIMIT = 64 * 1024;
  let dir: string;
  let app: RunningAlmanac;
  let port: number;
  const authorization = `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'almanac-hostile-'));
    const config: Config = { ...DEFAULTS, data: dir, port: 0, logLevel: 'silent', maxBodyBytes: LIMIT };
    app = await startAlmanac(config);
    port = Number(new URL(app.url).port);
    await app.store.createUser({ name: 'alice', email: 'alice@example.com', displayName: 'ALICE', passwordHash: await hashPassword(PASSWORD) });
  });
  after(async () => {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function send(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /**
   * Sends the headers, then up to `total` bytes in `chunkSize` pieces while no answer has come; the
   * answer is what the server sent, however much of the body it had been given by then.
   */
  function upload(headers: Record<string, string>, total: number, chunkSize: number): Promise<HttpAnswer & { sent: number; continued: boolean }> {
    return new Promise((resolve, reject) => {
      let answered = false;
      let continued = false;
      let sent = 0;
      const req = httpRequest({ host: '127.0.0.1', port, method: 'PUT', path: '/files/alice/big.bin', headers: { authorization, 'content-type': 'application/octet-stream', ...headers }, agent: false });
      req.on('continue', () => {
        continued = true;
      });
      req.on('response', (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), sent, continued });
          req.destroy();
        });
        res.on('error', () => undefined);
      });
      // Once the server has answered and closed, writes fail (EPIPE/ECONNRESET); only earlier errors count.
      req.on('error', (error) => {
        if (!answered) reject(error);
      });
      req.flushHeaders();
      const chunk = Buffer.alloc(chunkSize, 0x61);
      const pump = (): void => {
        while (!answered && sent < total) {
          sent += chunk.byteLength;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        if (!answered && sent >= total && !headers['content-length']) req.end();
      };
      if (total > 0) pump();
    });
  }

  void it('answers /healthz with 200', async () => {
    const response = await send('GET', '/healthz');
    assert.equal(response.status, 200);
  });

  void it('answers /readyz with 200 and JSON', async () => {
    const response = await send('GET', '/readyz');
    assert.equal(response.status, 200);
    assert.match(String(response.headers['content-type']), /^application\/json/u);
    const report = JSON.parse(response.body) as { ready?: unknown };
    assert.equal(report.ready, true);
  });

  void it('redirects /.well-known/caldav and /.well-known/carddav to / with 301, and answers PROPFIND there in place', async () => {
    for (const path of ['/.well-known/caldav', '/.well-known/carddav']) {
      const response = await send('GET', path, { authorization });
      assert.equal(response.status, 301, path);
      assert.equal(response.headers.location, '/', path);
      // Following a 301 drops a PROPFIND's body in common HTTP libraries, so it is served where sent.
      const propfind = await send('PROPFIND', path, { authorization, depth: '0' });
      assert.equal(propfind.status, 207, path);
    }
  });

  void it('refuses a PUT declaring a 1 MiB Content-Length with 413 before the body is sent', { timeout: 30_000 }, async () => {
    // No body byte is ever sent: an answer proves the server did not wait to read it.
    const response = await upload({ 'content-length': String(1024 * 1024) }, 0, 1);
    assert.equal(response.status, 413);
    assert.equal(response.sent, 0);
  });

  void it('refuses an Expect: 100-continue PUT declaring 1 MiB with 413 and no 100 Continue', { timeout: 30_000 }, async () => {
    const response = await upload({ 'content-length': String(1024 * 1024), expect: '100-continue' }, 0, 1);
    assert.equal(response.status, 413);
    assert.equal(response.continued, false);
  });

  void it('refuses a chunked PUT that streams past the limit with 413', { timeout: 30_000 }, async () => {
    const response = await upload({ 'transfer-encoding': 'chunked' }, 64 * LIMIT, 8 * 1024);
    assert.equal(response.status, 413);
    assert.ok(response.sent > LIMIT, `only ${response.sent} bytes were sent`);
  });

  void it('still serves normal requests after refusing oversized bodies, and stored nothing', async () => {
    const propfind = await send('PROPFIND', '/', { authorization, depth: '0', 'content-type': 'application/xml' }, propfindBody(dav('current-user-principal')));
    assert.equal(propfind.status, 207);
    const [root] = parseMultistatus(propfind.body);
    assert.equal(textContent(root!.props.get(dav('current-user-principal'))!.element).trim(), '/principals/alice/');
    assert.equal((await send('GET', '/files/alice/big.bin', { authorization })).status, 404);
    const small = 'just under the limit '.repeat(100);
    assert.equal((await send('PUT', '/files/alice/small.txt', { authorization, 'content-type': 'text/plain' }, small)).status, 201);
    const get = await send('GET', '/files/alice/small.txt', { authorization });
    assert.equal(get.status, 200);
    assert.equal(get.body, small);
  });

  void it('exposes almanac_http_requests_total on /metrics', async () => {
    const response = await send('GET', '/metrics');
    assert.equal(response.status, 200);
    assert.match(response.body, /almanac_http_requests_total/u);
  });
});
