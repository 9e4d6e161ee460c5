// Every WebDAV method on the plain folder space and on calendar homes, as a client observes it:
// statuses, headers, bodies, preconditions, and what is stored afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { caldav, dav } from '../../src/dav/xml/names.ts';
import { textContent } from '../../src/dav/xml/tree.ts';
import { errorConditions, Harness, parseMultistatus, propfindBody } from '../support/harness.ts';

const PROPPATCH = (inner: string): string =>
  `<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:example:z">${inner}</D:propertyupdate>`;

void describe('WebDAV methods', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start(['alice']);
  });
  after(async () => h.close());

  void it('PUT stores bytes exactly; GET and HEAD return them with the strong ETag PUT announced', async () => {
    const body = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0xe2, 0x82, 0xac]);
    const put = await h.send('PUT', '/files/alice/blob.bin', { headers: { 'content-type': 'application/octet-stream' }, body });
    assert.equal(put.status, 201);
    const etag = put.headers.ETag;
    assert.match(etag ?? '', /^"[^"]+"$/u);
    const got = await h.send('GET', '/files/alice/blob.bin');
    assert.equal(got.status, 200);
    assert.deepEqual(Buffer.from(got.raw.body as Uint8Array), body);
    assert.equal(got.headers.ETag, etag);
    assert.equal(got.headers['Content-Type'], 'application/octet-stream');
    const head = await h.send('HEAD', '/files/alice/blob.bin');
    assert.equal(head.status, 200);
    assert.equal(head.headers['Content-Length'], String(body.byteLength));
    assert.equal(head.raw.body, undefined);
    const again = await h.send('PUT', '/files/alice/blob.bin', { body: 'new' });
    assert.equal(again.status, 204);
    assert.notEqual(again.headers.ETag, etag);
  });

  void it('PUT needs an existing parent (409), refuses collections (405) and homes that hold only collections (403)', async () => {
    assert.equal((await h.send('PUT', '/files/alice/missing/x.txt', { body: 'x' })).status, 409);
    assert.equal((await h.send('PUT', '/files/alice/', { body: 'x' })).status, 405);
    assert.equal((await h.send('PUT', '/calendars/alice/x.ics', { body: 'x' })).status, 403);
  });

  void it('honours If-None-Match: * and If-Match on PUT and DELETE', async () => {
    const created = await h.send('PUT', '/files/alice/p.txt', { headers: { 'if-none-match': '*' }, body: 'one' });
    assert.equal(created.status, 201);
    assert.equal((await h.send('PUT', '/files/alice/p.txt', { headers: { 'if-none-match': '*' }, body: 'two' })).status, 412);
    assert.equal((await h.send('PUT', '/files/alice/p.txt', { headers: { 'if-match': '"nope"' }, body: 'two' })).status, 412);
    const updated = await h.send('PUT', '/files/alice/p.txt', { headers: { 'if-match': created.headers.ETag! }, body: 'two' });
    assert.equal(updated.status, 204);
    assert.equal((await h.send('DELETE', '/files/alice/p.txt', { headers: { 'if-match': created.headers.ETag! } })).status, 412);
    assert.equal((await h.send('GET', '/files/alice/p.txt')).text, 'two');
    assert.equal((await h.send('DELETE', '/files/alice/p.txt', { headers: { 'if-match': updated.headers.ETag! } })).status, 204);
    assert.equal((await h.send('GET', '/files/alice/p.txt')).status, 404);
    assert.equal((await h.send('DELETE', '/files/alice/p.txt')).status, 404);
  });

  void it('PROPPATCH stores dead properties exactly and answers 200 per property', async () => {
    await h.send('PUT', '/files/alice/props.txt', { body: 'x' });
    const set = await h.send('PROPPATCH', '/files/alice/props.txt', {
      body: PROPPATCH('<D:set><D:prop><Z:color xmlns:Q="urn:q"><Q:inner a="1">red &amp; <b/>blue 𝄞</Q:inner></Z:color><D:displayname>Props</D:displayname></D:prop></D:set>'),
    });
    assert.equal(set.status, 207);
    const statuses = parseMultistatus(set.text)[0]!.props;
    assert.equal(statuses.get('{urn:example:z}color' as never)?.status, 'HTTP/1.1 200 OK');
    const read = parseMultistatus((await h.send('PROPFIND', '/files/alice/props.txt', { headers: { depth: '0' }, body: propfindBody('{urn:example:z}color' as never, dav('displayname')) })).text)[0]!;
    const color = read.props.get('{urn:example:z}color' as never)!;
    assert.equal(color.status, 'HTTP/1.1 200 OK');
    const inner = color.element.children.find((c) => c.type === 'element');
    assert.equal(inner?.type === 'element' ? inner.name : '', '{urn:q}inner');
    assert.equal(inner?.type === 'element' ? inner.attributes.get('{}a' as never) : '', '1');
    assert.equal(textContent(color.element), 'red & blue 𝄞');
    assert.equal(textContent(read.props.get(dav('displayname'))!.element), 'Props');
  });

  void it('PROPPATCH is atomic: a protected property fails with 403 and the rest with 424, nothing applied', async () => {
    const response = await h.send('PROPPATCH', '/files/alice/props.txt', {
      body: PROPPATCH('<D:set><D:prop><Z:other>1</Z:other><D:getetag>"forged"</D:getetag></D:prop></D:set><D:remove><D:prop><Z:color/></D:prop></D:remove>'),
    });
    assert.equal(response.status, 207);
    const props = parseMultistatus(response.text)[0]!.props;
    assert.equal(props.get(dav('getetag'))?.status, 'HTTP/1.1 403 Forbidden');
    assert.match(response.text, /cannot-modify-protected-property/u);
    assert.equal(props.get('{urn:example:z}other' as never)?.status, 'HTTP/1.1 424 Failed Dependency');
    assert.equal(props.get('{urn:example:z}color' as never)?.status, 'HTTP/1.1 424 Failed Dependency');
    const read = parseMultistatus((await h.send('PROPFIND', '/files/alice/props.txt', { headers: { depth: '0' }, body: propfindBody('{urn:example:z}color' as never, '{urn:example:z}other' as never) })).text)[0]!;
    assert.equal(read.props.get('{urn:example:z}color' as never)?.status, 'HTTP/1.1 200 OK');
    assert.equal(read.props.get('{urn:example:z}other' as never)?.status, 'HTTP/1.1 404 Not Found');
  });

  void it('PROPFIND propname and allprop list dead properties next to the live ones', async () => {
    const names = parseMultistatus((await h.send('PROPFIND', '/files/alice/props.txt', { headers: { depth: '0' }, body: '<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>' })).text)[0]!;
    assert.ok(names.props.has('{urn:example:z}color' as never));
    assert.ok(names.props.has(dav('getetag')));
    assert.equal(names.props.get(dav('getetag'))!.element.children.length, 0);
    const all = parseMultistatus((await h.send('PROPFIND', '/files/alice/props.txt', { headers: { depth: '0' } })).text)[0]!;
    assert.ok(all.props.has('{urn:example:z}color' as never));
    assert.ok(all.props.has(dav('getcontentlength')));
  });

  void it('MKCOL makes folders: 201, then 405 when it exists, 409 without a parent, 415 for an unknown body', async () => {
    assert.equal((await h.send('MKCOL', '/files/alice/dir/')).status, 201);
    assert.equal((await h.send('MKCOL', '/files/alice/dir/')).status, 405);
    assert.equal((await h.send('MKCOL', '/files/alice/no/dir/')).status, 409);
    assert.equal((await h.send('MKCOL', '/files/alice/odd/', { headers: { 'content-type': 'text/plain' }, body: 'hello' })).status, 415);
    assert.equal((await h.send('MKCOL', '/calendars/alice/plain/')).status, 403);
  });

  void it('extended MKCOL creates a calendar with its properties in one step', async () => {
    const body = `<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>
      <D:resourcetype><D:collection/><C:calendar/></D:resourcetype><D:displayname>Work</D:displayname>
      <C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set></D:prop></D:set></D:mkcol>`;
    const response = await h.send('MKCOL', '/calendars/alice/work/', { headers: { 'content-type': 'application/xml' }, body });
    assert.equal(response.status, 201);
    const read = parseMultistatus((await h.send('PROPFIND', '/calendars/alice/work/', { headers: { depth: '0' }, body: propfindBody(dav('resourcetype'), dav('displayname'), caldav('supported-calendar-component-set')) })).text)[0]!;
    assert.equal(textContent(read.props.get(dav('displayname'))!.element), 'Work');
    assert.match(JSON.stringify([...read.props.get(dav('resourcetype'))!.element.children]), /caldav\}calendar/u);
    const comps = read.props.get(caldav('supported-calendar-component-set'))!.element.children.filter((c) => c.type === 'element');
    assert.deepEqual(comps.map((c) => c.attributes.get('{}name' as never)), ['VTODO']);
  });

  void it('extended MKCOL with a property that cannot be set creates nothing and reports each property', async () => {
    const body = `<D:mkcol xmlns:D="DAV:"><D:set><D:prop><D:resourcetype><D:collection/></D:resourcetype><D:getetag>"x"</D:getetag><D:displayname>X</D:displayname></D:prop></D:set></D:mkcol>`;
    const response = await h.send('MKCOL', '/files/alice/refused/', { headers: { 'content-type': 'application/xml' }, body });
    assert.equal(response.status, 403);
    assert.match(response.text, /mkcol-response/u);
    assert.match(response.text, /424 Failed Dependency/u);
    assert.equal((await h.send('PROPFIND', '/files/alice/refused/', { headers: { depth: '0' } })).status, 404);
    const wrongType = `<D:mkcol xmlns:D="DAV:" xmlns:X="urn:x"><D:set><D:prop><D:resourcetype><D:collection/><X:unknown/></D:resourcetype></D:prop></D:set></D:mkcol>`;
    const refused = await h.send('MKCOL', '/files/alice/refused/', { headers: { 'content-type': 'application/xml' }, body: wrongType });
    assert.equal(refused.status, 403);
    assert.deepEqual(errorConditions(refused.text), [dav('valid-resourcetype')]);
  });

  void it('COPY and MOVE honour Overwrite and answer 201 or 204', async () => {
    await h.send('PUT', '/files/alice/src.txt', { body: 'source' });
    await h.send('PUT', '/files/alice/dst.txt', { body: 'old' });
    const noOverwrite = await h.send('COPY', '/files/alice/src.txt', { headers: { destination: 'http://localhost/files/alice/dst.txt', overwrite: 'F' } });
    assert.equal(noOverwrite.status, 412);
    assert.equal((await h.send('GET', '/files/alice/dst.txt')).text, 'old');
    assert.equal((await h.send('COPY', '/files/alice/src.txt', { headers: { destination: '/files/alice/dst.txt' } })).status, 204);
    assert.equal((await h.send('GET', '/files/alice/dst.txt')).text, 'source');
    assert.equal((await h.send('COPY', '/files/alice/src.txt', { headers: { destination: '/files/alice/dir/copy.txt' } })).status, 201);
    assert.equal((await h.send('MOVE', '/files/alice/src.txt', { headers: { destination: '/files/alice/dir/moved.txt' } })).status, 201);
    assert.equal((await h.send('GET', '/files/alice/src.txt')).status, 404);
    assert.equal((await h.send('GET', '/files/alice/dir/moved.txt')).text, 'source');
    assert.equal((await h.send('MOVE', '/files/alice/dir/', { headers: { destination: '/files/alice/dir2/' } })).status, 201);
    assert.equal((await h.send('GET', '/files/alice/dir2/copy.txt')).text, 'source');
    assert.equal((await h.send('COPY', '/files/alice/dir2/', { headers: { destination: '/files/alice/dir2/inside/' } })).status, 403);
    assert.equal((await h.send('COPY', '/files/alice/dst.txt', { headers: { destination: '/files/alice/none/x.txt' } })).status, 409);
    assert.equal((await h.send('COPY', '/files/alice/dst.txt', {})).status, 400);
    assert.equal((await h.send('MOVE', '/files/alice/dst.txt', { headers: { destination: '/calendars/alice/default/x.ics' } })).status, 403);
  });

  void it('DELETE removes a folder with its contents but never a home', async () => {
    assert.equal((await h.send('DELETE', '/files/alice/dir2/')).status, 204);
    assert.equal((await h.send('GET', '/files/alice/dir2/copy.txt')).status, 404);
    assert.equal((await h.send('DELETE', '/files/alice/')).status, 403);
    assert.equal((await h.send('DELETE', '/calendars/alice/')).status, 403);
  });

  void it('refuses unknown reports with DAV:supported-report and unknown methods with 501', async () => {
    const report = await h.send('REPORT', '/files/alice/', { body: '<X:whatever xmlns:X="urn:x"/>' });
    assert.equal(report.status, 403);
    assert.deepEqual(errorConditions(report.text), [dav('supported-report')]);
    assert.equal((await h.send('LOCK', '/files/alice/dst.txt')).status, 501);
    assert.equal((await h.send('BREW', '/files/alice/dst.txt')).status, 501);
  });

  void it('OPTIONS lists what the resource allows', async () => {
    const object = await h.send('OPTIONS', '/files/alice/dst.txt');
    assert.match(object.headers.Allow ?? '', /\bPUT\b/u);
    const collection = await h.send('OPTIONS', '/files/alice/');
    assert.doesNotMatch(collection.headers.Allow ?? '', /\bPUT\b/u);
    assert.match(collection.headers.Allow ?? '', /\bPROPFIND\b/u);
  });
});
