// Tests for the 207 Multi-Status and DAV:error writers, checked by parsing the output back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NS, caldav, clark, cs, dav, ical } from './names.ts';
import { MultistatusBuilder, statusLine, writeError, writeMultistatus } from './multistatus.ts';
import type { MultistatusResponse } from './multistatus.ts';
import { escapeUtf8Text } from './escape.ts';
import { parseXml } from './parse.ts';
import { childElements, el, elAttrs, findChild, findChildren, textContent } from './tree.ts';
import type { XmlElement } from './tree.ts';

const DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n';

/** The xmlns declarations of the root start tag, and whether any appear further down. */
function declarations(body: string): { root: string[]; elsewhere: boolean } {
  const rootTag = /^<\?xml[^>]*\?>\n<[^>]*>/.exec(body)?.[0] ?? '';
  const root = [...rootTag.matchAll(/ xmlns(?::[\w.-]+)?="[^"]*"/g)].map((match) => match[0].trim());
  return { root, elsewhere: body.slice(rootTag.length).includes('xmlns') };
}

function only(elements: readonly XmlElement[]): XmlElement {
  assert.equal(elements.length, 1);
  const [first] = elements;
  assert.ok(first !== undefined);
  return first;
}

void describe('statusLine', () => {
  void it('formats common and DAV-specific codes', () => {
    assert.equal(statusLine(200), 'HTTP/1.1 200 OK');
    assert.equal(statusLine(207), 'HTTP/1.1 207 Multi-Status');
    assert.equal(statusLine(403), 'HTTP/1.1 403 Forbidden');
    assert.equal(statusLine(404), 'HTTP/1.1 404 Not Found');
    assert.equal(statusLine(409), 'HTTP/1.1 409 Conflict');
    assert.equal(statusLine(422), 'HTTP/1.1 422 Unprocessable Entity');
    assert.equal(statusLine(423), 'HTTP/1.1 423 Locked');
    assert.equal(statusLine(424), 'HTTP/1.1 424 Failed Dependency');
    assert.equal(statusLine(507), 'HTTP/1.1 507 Insufficient Storage');
    assert.equal(statusLine(599), 'HTTP/1.1 599 Unknown');
  });

  void it('refuses values that are not status codes', () => {
    assert.throws(() => statusLine(99), RangeError);
    assert.throws(() => statusLine(600), RangeError);
    assert.throws(() => statusLine(200.5), RangeError);
  });
});

void describe('writeMultistatus', () => {
  void it('writes the body clients expect, byte for byte', () => {
    const body = writeMultistatus([
      { href: '/x/', propstats: [{ status: 200, props: [{ name: dav('getetag'), value: [{ type: 'text', text: '"abc"' }] }] }] },
    ]);
    assert.equal(
      body,
      DECLARATION +
        '<d:multistatus xmlns:d="DAV:"><d:response><d:href>/x/</d:href><d:propstat><d:prop>' +
        '<d:getetag>"abc"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status>' +
        '</d:propstat></d:response></d:multistatus>',
    );
  });

  void it('declares every namespace once, on the root', () => {
    const body = writeMultistatus([
      {
        href: '/cal/',
        propstats: [
          {
            status: 200,
            props: [
              { name: dav('resourcetype'), value: [el(dav('collection')), el(caldav('calendar'))] },
              { name: cs('getctag'), value: [{ type: 'text', text: '7' }] },
              { name: clark('urn:custom', 'thing'), value: [elAttrs(clark('urn:other', 'v'), { '{urn:attr}a': '1' })] },
            ],
          },
          { status: 404, props: [{ name: ical('calendar-color') }] },
        ],
      },
      { href: '/cal/x.ics', status: 403, error: el(caldav('valid-calendar-data')) },
    ]);
    assert.deepEqual(declarations(body), {
      root: [
        'xmlns:d="DAV:"',
        'xmlns:cal="urn:ietf:params:xml:ns:caldav"',
        'xmlns:cs="http://calendarserver.org/ns/"',
        'xmlns:x0="urn:custom"',
        'xmlns:x1="urn:other"',
        'xmlns:x2="urn:attr"',
        'xmlns:ical="http://apple.com/ns/ical/"',
      ],
      elsewhere: false,
    });
    // And the declarations actually bind what is used.
    const root = parseXml(body);
    const [first, second] = findChildren(root, dav('response'));
    assert.ok(first !== undefined && second !== undefined);
    const [ok, missing] = findChildren(first, dav('propstat'));
    assert.ok(ok !== undefined && missing !== undefined);
    const props = childElements(only(findChildren(ok, dav('prop'))));
    assert.deepEqual(props.map((prop) => prop.name), ['{DAV:}resourcetype', '{http://calendarserver.org/ns/}getctag', '{urn:custom}thing']);
    const custom = only(childElements(props[2] ?? el(dav('none'))));
    assert.deepEqual([custom.name, [...custom.attributes]], ['{urn:other}v', [['{urn:attr}a', '1']]]);
    assert.deepEqual(childElements(only(findChildren(missing, dav('prop')))).map((prop) => [prop.name, prop.children.length]), [
      ['{http://apple.com/ns/ical/}calendar-color', 0],
    ]);
    assert.equal(textContent(only(findChildren(missing, dav('status')))), 'HTTP/1.1 404 Not Found');
    assert.deepEqual(childElements(second).map((child) => child.name), ['{DAV:}href', '{DAV:}status', '{DAV:}error']);
    assert.equal(textContent(only(findChildren(second, dav('status')))), 'HTTP/1.1 403 Forbidden');
    assert.deepEqual(childElements(only(findChildren(second, dav('error')))).map((child) => child.name), [caldav('valid-calendar-data')]);
  });

  void it('orders response and propstat children as RFC 4918 requires', () => {
    const body = writeMultistatus([
      {
        href: '/a',
        propstats: [
          { status: 424, props: [{ name: dav('displayname') }], description: 'dep' },
          {
            status: 403,
            props: [{ name: dav('getetag') }],
            error: el(dav('error'), el(dav('cannot-modify-protected-property'))),
            description: 'protected',
          },
        ],
        error: el(dav('need-privileges')),
        description: 'partial',
      },
    ]);
    const response = only(findChildren(parseXml(body), dav('response')));
    assert.deepEqual(childElements(response).map((child) => child.name), [
      dav('href'), dav('propstat'), dav('propstat'), dav('error'), dav('responsedescription'),
    ]);
    const [dependent, forbidden] = findChildren(response, dav('propstat'));
    assert.ok(dependent !== undefined && forbidden !== undefined);
    assert.deepEqual(childElements(dependent).map((child) => child.name), [dav('prop'), dav('status'), dav('responsedescription')]);
    assert.equal(textContent(only(findChildren(dependent, dav('status')))), 'HTTP/1.1 424 Failed Dependency');
    assert.deepEqual(childElements(forbidden).map((child) => child.name), [dav('prop'), dav('status'), dav('error'), dav('responsedescription')]);
    // An element already named DAV:error is not wrapped a second time.
    assert.deepEqual(childElements(only(findChildren(forbidden, dav('error')))).map((child) => child.name), [
      dav('cannot-modify-protected-property'),
    ]);
    assert.equal(textContent(only(findChildren(forbidden, dav('responsedescription')))), 'protected');
    assert.deepEqual(childElements(only(findChildren(response, dav('error')))).map((child) => child.name), [dav('need-privileges')]);
  });

  void it('puts the responsedescription and then the sync-token after all responses', () => {
    const body = writeMultistatus(
      [
        { href: '/c/1.ics', propstats: [{ status: 200, props: [{ name: dav('getetag'), value: [{ type: 'text', text: '"1"' }] }] }] },
        { href: '/c/gone.ics', status: 404 },
      ],
      { syncToken: 'http://almanac.invalid/sync/42?a&b', description: 'all <done>' },
    );
    const root = parseXml(body);
    assert.equal(root.name, dav('multistatus'));
    assert.deepEqual(childElements(root).map((child) => child.name), [
      dav('response'), dav('response'), dav('responsedescription'), dav('sync-token'),
    ]);
    assert.equal(textContent(only(findChildren(root, dav('sync-token')))), 'http://almanac.invalid/sync/42?a&b');
    assert.equal(textContent(only(findChildren(root, dav('responsedescription')))), 'all <done>');
    assert.ok(body.endsWith('<d:sync-token>http://almanac.invalid/sync/42?a&amp;b</d:sync-token></d:multistatus>'));
  });

  void it('XML-escapes hrefs but does not otherwise touch them', () => {
    const body = writeMultistatus([{ href: '/a%20b/c&d<e>', status: 404 }]);
    assert.ok(body.includes('<d:href>/a%20b/c&amp;d&lt;e&gt;</d:href>'));
    const response = only(findChildren(parseXml(body), dav('response')));
    assert.equal(textContent(only(findChildren(response, dav('href')))), '/a%20b/c&d<e>');
  });

  void it('writes an empty multistatus', () => {
    assert.equal(writeMultistatus([]), `${DECLARATION}<d:multistatus xmlns:d="DAV:"></d:multistatus>`);
    assert.equal(
      writeMultistatus([], { syncToken: 't' }),
      `${DECLARATION}<d:multistatus xmlns:d="DAV:"><d:sync-token>t</d:sync-token></d:multistatus>`,
    );
  });

  void it('writes a propstat with no properties as an empty prop', () => {
    const body = writeMultistatus([{ href: '/x', propstats: [{ status: 200, props: [] }] }]);
    assert.ok(body.includes('<d:propstat><d:prop/><d:status>HTTP/1.1 200 OK</d:status></d:propstat>'));
  });

  void it('refuses responses that are neither status nor propstat, or both', () => {
    assert.throws(() => writeMultistatus([{ href: '/x' }]), /neither status nor propstats/);
    assert.throws(() => writeMultistatus([{ href: '/x', propstats: [] }]), /neither status nor propstats/);
    assert.throws(
      () => writeMultistatus([{ href: '/x', status: 200, propstats: [{ status: 200, props: [] }] }]),
      /both status and propstats/,
    );
  });

  void it('consumes a one-shot iterable once and scales to large reports', () => {
    const count = 20_000;
    function* responses(): Generator<MultistatusResponse> {
      for (let i = 0; i < count; i++) {
        yield {
          href: `/cal/${i}.ics`,
          propstats: [
            {
              status: 200,
              props: [
                { name: dav('getetag'), value: [{ type: 'text', text: `"${i}"` }] },
                // A namespace first seen late in the stream must still be declared on the root.
                { name: i === count - 1 ? clark('urn:late', 'x') : caldav('calendar-data'), value: [{ type: 'text', text: 'BEGIN:VCALENDAR\r\n' }] },
              ],
            },
          ],
        };
      }
    }
    const started = performance.now();
    const body = writeMultistatus(responses(), { syncToken: 'tok' });
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 2_000, `took ${elapsed} ms`);
    assert.deepEqual(declarations(body), {
      root: ['xmlns:d="DAV:"', 'xmlns:cal="urn:ietf:params:xml:ns:caldav"', 'xmlns:x0="urn:late"'],
      elsewhere: false,
    });
    const root = parseXml(body, { maxElements: 1_000_000 });
    const all = findChildren(root, dav('response'));
    assert.equal(all.length, count);
    const last = all.at(-1);
    assert.ok(last !== undefined);
    assert.equal(textContent(only(findChildren(last, dav('href')))), `/cal/${count - 1}.ics`);
    const lastProp = only(findChildren(only(findChildren(last, dav('propstat'))), dav('prop')));
    assert.equal(textContent(findChild(lastProp, clark('urn:late', 'x')) ?? el(dav('none'))), 'BEGIN:VCALENDAR\r\n');
  });
});

void describe('writeError', () => {
  void it('wraps the conditions in DAV:error with their namespaces declared', () => {
    assert.equal(
      writeError([el(caldav('supported-calendar-component')), el(dav('need-privileges'))]),
      DECLARATION +
        `<d:error xmlns:d="DAV:" xmlns:cal="${NS.CALDAV}"><cal:supported-calendar-component/><d:need-privileges/></d:error>`,
    );
  });

  void it('writes an empty DAV:error', () => {
    assert.equal(writeError([]), `${DECLARATION}<d:error xmlns:d="DAV:"/>`);
  });
});

void describe('MultistatusBuilder flushed in parts', () => {
  const responses: MultistatusResponse[] = Array.from({ length: 7 }, (_, i) => ({
    href: `/calendars/alice/default/ev-${i}.ics`,
    propstats: [{
      status: 200,
      props: [
        { name: dav('getetag'), value: [{ type: 'text', text: `"etag-${i}"` }] },
        // A namespace first met after some parts were flushed still gets declared on the root.
        ...(i === 5 ? [{ name: clark('urn:example:late', 'color'), element: elAttrs(clark('urn:example:late', 'color'), { [clark('urn:example:attr', 'kind')]: 'x<y' }, 'Grün & blau') }] : []),
      ],
    }],
  }));

  void it('produces exactly the bytes of the document written in one go', () => {
    const builder = new MultistatusBuilder();
    responses.forEach((response, i) => {
      builder.add(response);
      if (i % 2 === 1) builder.flush();
    });
    const bytes = builder.finishBytes({ syncToken: 'urn:token:1' });
    assert.equal(bytes.toString('utf8'), writeMultistatus(responses, { syncToken: 'urn:token:1' }));
    const root = parseXml(bytes.toString('utf8'));
    assert.equal(findChildren(root, dav('response')).length, 7);
  });

  void it('refuses to be finished twice', () => {
    const builder = new MultistatusBuilder();
    builder.add(responses[0] as MultistatusResponse);
    builder.finishBytes();
    assert.throws(() => builder.finish());
  });
});

void describe('property values given as escaped UTF-8 bytes', () => {
  const data = 'BEGIN:VCALENDAR\r\nSUMMARY:Zoë & <friends>\r\nEND:VCALENDAR\r\n';
  const responses = (bytes: boolean): MultistatusResponse[] => [
    { href: '/calendars/alice/default/a.ics', propstats: [{ status: 200, props: [{ name: dav('getetag'), value: [{ type: 'text', text: '"e1"' }] }, bytes ? { name: caldav('calendar-data'), bytes: escapeUtf8Text(Buffer.from(data, 'utf8'))! } : { name: caldav('calendar-data'), value: [{ type: 'text', text: data }] }] }] },
    { href: '/calendars/alice/default/missing.ics', status: 404 },
    { href: '/calendars/alice/default/b.ics', propstats: [{ status: 200, props: [bytes ? { name: caldav('calendar-data'), bytes: Buffer.from('X') } : { name: caldav('calendar-data'), value: [{ type: 'text', text: 'X' }] }] }] },
  ];

  void it('writes the same document as the same values given as text', () => {
    const builder = new MultistatusBuilder();
    for (const response of responses(true)) builder.add(response);
    const written = builder.finishBytes({ syncToken: 'tok' });
    assert.equal(written.toString('utf8'), writeMultistatus(responses(false), { syncToken: 'tok' }));
    const parsed = parseXml(written);
    const first = findChildren(parsed, dav('response'))[0];
    assert.ok(first !== undefined);
    assert.equal(textContent(findChild(findChild(findChild(first, dav('propstat'))!, dav('prop'))!, caldav('calendar-data'))!), data);
  });

  void it('cannot be finished as a string', () => {
    const builder = new MultistatusBuilder();
    for (const response of responses(true)) builder.add(response);
    assert.throws(() => builder.finish(), /finishBytes/u);
  });
});
