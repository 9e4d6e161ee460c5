// The DAV:expand-property REPORT (RFC 3253 §3.8) as Apple clients use it on principals: hrefs replaced
// by inline responses, nested levels, another user's resources answered 404 without a trace of them,
// the nesting limit, and its place in supported-report-set.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_FOLLOWED_HREFS } from '../../src/acl/expand-property.ts';
import { caldav, cs, dav, type ClarkName } from '../../src/dav/xml/names.ts';
import { parseXml } from '../../src/dav/xml/parse.ts';
import { childElements, findChild, findChildren, textContent, type XmlElement } from '../../src/dav/xml/tree.ts';
import { clientTrace, mkcalendar, proppatch } from '../support/dav-fixtures.ts';
import { Harness, PASSWORD } from '../support/harness.ts';

const XML = { 'content-type': 'application/xml; charset=utf-8' };

function body(inner: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><D:expand-property xmlns:D="DAV:">${inner}</D:expand-property>`;
}

/** A DAV:response element read as a client would: href, status, and props by name with their status. */
interface Answer {
  readonly href: string;
  readonly status: string | undefined;
  readonly props: ReadonlyMap<ClarkName, { readonly status: string; readonly element: XmlElement }>;
}

function readResponse(response: XmlElement): Answer {
  const props = new Map<ClarkName, { status: string; element: XmlElement }>();
  for (const propstat of findChildren(response, dav('propstat'))) {
    const status = textContent(findChild(propstat, dav('status')) ?? propstat);
    for (const element of childElements(findChild(propstat, dav('prop')) ?? propstat)) props.set(element.name, { status, element });
  }
  const status = findChild(response, dav('status'));
  return { href: textContent(findChild(response, dav('href')) ?? response), status: status === undefined ? undefined : textContent(status), props };
}

/** The inline DAV:response elements inside a property value. */
function inline(answer: Answer | undefined, name: ClarkName): Answer[] {
  const property = answer?.props.get(name);
  assert.ok(property !== undefined, `no ${name}`);
  assert.equal(property.status, 'HTTP/1.1 200 OK');
  return findChildren(property.element, dav('response')).map(readResponse);
}

void describe('expand-property REPORT', () => {
  let h: Harness;
  const expand = async (path: string, inner: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; answers: Answer[] }> => {
    const response = await h.send('REPORT', path, { headers: { depth: '0', ...XML, ...headers }, body: body(inner) });
    if (response.status !== 207) return { status: response.status, text: response.text, answers: [] };
    return { status: 207, text: response.text, answers: findChildren(parseXml(response.text), dav('response')).map(readResponse) };
  };

  before(async () => {
    h = await Harness.start(['alice', 'bob']);
    // Make sure both users' homes exist, so a 404 for bob's cannot come from absence.
    assert.equal((await mkcalendar(h, '/calendars/alice/work/')).status, 201);
    const bob = { user: 'bob', password: PASSWORD };
    assert.equal((await h.send('MKCALENDAR', '/calendars/bob/secret/', { as: bob })).status, 201);
    assert.equal((await h.send('PROPPATCH', '/calendars/bob/secret/', {
      as: bob, headers: XML,
      body: '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Bob secret</D:displayname></D:prop></D:set></D:propertyupdate>',
    })).status, 207);
  });
  after(async () => h.close());

  void it('replaces the hrefs of a principal property by the properties of what they name', async () => {
    const { status, answers } = await expand('/principals/alice/',
      '<D:property name="calendar-home-set" namespace="urn:ietf:params:xml:ns:caldav"><D:property name="resourcetype"/><D:property name="current-user-privilege-set"/></D:property>'
      + '<D:property name="displayname"/>');
    assert.equal(status, 207);
    assert.equal(answers.length, 1);
    const principal = answers[0];
    assert.equal(principal?.href, '/principals/alice/');
    assert.equal(textContent(principal.props.get(dav('displayname'))?.element ?? parseXml('<x/>')), 'ALICE');
    const [home, ...more] = inline(principal, caldav('calendar-home-set'));
    assert.equal(more.length, 0);
    assert.equal(home?.href, '/calendars/alice/');
    assert.ok(childElements(home.props.get(dav('resourcetype'))?.element ?? parseXml('<x/>')).some((e) => e.name === dav('collection')));
    assert.equal(home.props.get(dav('current-user-privilege-set'))?.status, 'HTTP/1.1 200 OK');
  });

  void it('follows several levels: a calendar\'s owner, then that principal\'s home', async () => {
    const { answers } = await expand('/calendars/alice/work/',
      '<D:property name="owner"><D:property name="displayname"/><D:property name="calendar-home-set" namespace="urn:ietf:params:xml:ns:caldav"><D:property name="resourcetype"/></D:property></D:property>');
    const [owner] = inline(answers[0], dav('owner'));
    assert.equal(owner?.href, '/principals/alice/');
    assert.equal(textContent(owner.props.get(dav('displayname'))?.element ?? parseXml('<x/>')), 'ALICE');
    const [home] = inline(owner, caldav('calendar-home-set'));
    assert.equal(home?.href, '/calendars/alice/');
    assert.equal(home.props.get(dav('resourcetype'))?.status, 'HTTP/1.1 200 OK');
  });

  void it('answers an href the user may not see with 404 inside, exactly like one that does not exist, and nothing of it', async () => {
    const links = '<X:links xmlns:X="urn:example:links"><D:href xmlns:D="DAV:">/calendars/bob/secret/</D:href><D:href xmlns:D="DAV:">/calendars/nobody/none/</D:href><D:href xmlns:D="DAV:">/principals/bob/</D:href><D:href xmlns:D="DAV:">mailto:bob@example.com</D:href></X:links>';
    assert.equal((await proppatch(h, '/calendars/alice/work/', links, 'xmlns:D="DAV:" xmlns:X="urn:example:links"')).status, 207);
    const { status, text, answers } = await expand('/calendars/alice/work/', '<D:property name="links" namespace="urn:example:links"><D:property name="displayname"/><D:property name="owner"/></D:property>');
    assert.equal(status, 207);
    const followed = inline(answers[0], '{urn:example:links}links' as ClarkName);
    assert.deepEqual(followed.map((r) => [r.href, r.status, r.props.size]), [
      ['/calendars/bob/secret/', 'HTTP/1.1 404 Not Found', 0],
      ['/calendars/nobody/none/', 'HTTP/1.1 404 Not Found', 0],
      ['/principals/bob/', 'HTTP/1.1 404 Not Found', 0],
      ['mailto:bob@example.com', 'HTTP/1.1 404 Not Found', 0],
    ]);
    assert.doesNotMatch(text, /Bob secret|BOB/u);
  });

  void it('answers the iOS proxy request with 207: nobody made alice a proxy, so both lists are empty', async () => {
    const trace = clientTrace('ios-macos/04-report-expand-property-proxy-for.http');
    const response = await h.send('REPORT', '/principals/alice/', { headers: trace.headers, body: trace.body });
    assert.equal(response.status, 207);
    const [principal] = findChildren(parseXml(response.text), dav('response')).map(readResponse);
    assert.equal(principal?.href, '/principals/alice/');
    assert.deepEqual(inline(principal, cs('calendar-proxy-read-for')), []);
    assert.deepEqual(inline(principal, cs('calendar-proxy-write-for')), []);
  });

  void it('returns unknown properties as 404 propstats, and none with Prefer: return=minimal', async () => {
    const inner = '<D:property name="no-such-thing" namespace="urn:example:none"/><D:property name="displayname"/>';
    const full = await expand('/principals/alice/', inner);
    assert.equal(full.answers[0]?.props.get('{urn:example:none}no-such-thing' as ClarkName)?.status, 'HTTP/1.1 404 Not Found');
    const minimal = await expand('/principals/alice/', inner, { prefer: 'return=minimal' });
    assert.equal(minimal.answers[0]?.props.has('{urn:example:none}no-such-thing' as ClarkName), false);
    assert.equal(minimal.answers[0]?.props.get(dav('displayname'))?.status, 'HTTP/1.1 200 OK');
  });

  void it('expands a resource pointing at itself only as deep as asked, and refuses nesting past the limit', async () => {
    const level = (depth: number): string => (depth === 0 ? '<D:property name="displayname"/>' : `<D:property name="principal-URL">${level(depth - 1)}</D:property>`);
    const ok = await expand('/principals/alice/', level(3));
    assert.equal(ok.status, 207);
    let current = ok.answers[0];
    for (let n = 0; n < 3; n++) {
      const [next] = inline(current, dav('principal-URL'));
      assert.equal(next?.href, '/principals/alice/');
      current = next;
    }
    assert.equal(current?.props.get(dav('displayname'))?.status, 'HTTP/1.1 200 OK');
    const deep = await expand('/principals/alice/', level(6));
    assert.equal(deep.status, 400);
  });

  void it('follows at most MAX_FOLLOWED_HREFS hrefs in one report and says so for the others with 507', async () => {
    const hrefs = Array.from({ length: MAX_FOLLOWED_HREFS + 2 }, () => '<D:href xmlns:D="DAV:">/principals/alice/</D:href>').join('');
    assert.equal((await proppatch(h, '/calendars/alice/work/', `<X:many xmlns:X="urn:example:links">${hrefs}</X:many>`, 'xmlns:D="DAV:" xmlns:X="urn:example:links"')).status, 207);
    const { answers } = await expand('/calendars/alice/work/', '<D:property name="many" namespace="urn:example:links"><D:property name="displayname"/></D:property>');
    const statuses = inline(answers[0], '{urn:example:links}many' as ClarkName).map((r) => r.status ?? r.props.get(dav('displayname'))?.status);
    assert.equal(statuses.length, MAX_FOLLOWED_HREFS + 2);
    assert.deepEqual(new Set(statuses.slice(0, MAX_FOLLOWED_HREFS)), new Set(['HTTP/1.1 200 OK']));
    assert.deepEqual(statuses.slice(MAX_FOLLOWED_HREFS), ['HTTP/1.1 507 Insufficient Storage', 'HTTP/1.1 507 Insufficient Storage']);
  });

  void it('is listed in supported-report-set', async () => {
    const response = await h.send('PROPFIND', '/principals/alice/', { headers: { depth: '0', ...XML }, body: '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:supported-report-set/></D:prop></D:propfind>' });
    assert.match(response.text, /expand-property/u);
  });
});
