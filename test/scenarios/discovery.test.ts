// Discovery as clients do it: root → current-user-principal → home sets → homes with defaults.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { caldav, carddav, dav } from '../../src/dav/xml/names.ts';
import { textContent } from '../../src/dav/xml/tree.ts';
import { hashPassword } from '../../src/auth/passwords.ts';
import { Harness, parseMultistatus, PASSWORD, propfindBody } from '../support/harness.ts';

void describe('discovery', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start();
  });
  after(async () => h.close());

  void it('challenges a request without credentials with 401 and a Basic realm', async () => {
    const response = await h.send('PROPFIND', '/', { as: null, headers: { depth: '0' } });
    assert.equal(response.status, 401);
    assert.match(response.headers['WWW-Authenticate'] ?? '', /^Basic realm="Almanac"/u);
  });

  void it('rejects a wrong password with 401', async () => {
    const response = await h.send('PROPFIND', '/', { as: { user: 'alice', password: 'nope' }, headers: { depth: '0' } });
    assert.equal(response.status, 401);
  });

  void it('stops accepting a password the moment it is changed in the store, though it was cached', async () => {
    const harness = await Harness.start(['carol']);
    try {
      const probe = (password: string): Promise<number> =>
        harness.send('PROPFIND', '/', { as: { user: 'carol', password }, headers: { depth: '0' } }).then((r) => r.status);
      assert.equal(await probe(PASSWORD), 207);
      assert.equal(await probe(PASSWORD), 207);
      // What `almanac passwd` does from another process: a new hash and a new credentials version.
      assert.equal(await harness.store.setPasswordHash('carol', await hashPassword('new secret')), true);
      assert.equal(await probe(PASSWORD), 401);
      assert.equal(await probe('new secret'), 207);
      assert.equal(await probe(PASSWORD), 401);
    } finally {
      await harness.close();
    }
  });

  void it('answers current-user-principal on the root', async () => {
    const response = await h.send('PROPFIND', '/', { headers: { depth: '0' }, body: propfindBody(dav('current-user-principal'), dav('resourcetype')) });
    assert.equal(response.status, 207);
    const [root] = parseMultistatus(response.text);
    assert.equal(root?.href, '/');
    const principal = root?.props.get(dav('current-user-principal'));
    assert.equal(principal?.status, 'HTTP/1.1 200 OK');
    assert.equal(textContent(principal.element).trim(), '/principals/alice/');
  });

  void it('gives the principal its home sets, address set and display name', async () => {
    const response = await h.send('PROPFIND', '/principals/alice/', {
      headers: { depth: '0' },
      body: propfindBody(caldav('calendar-home-set'), carddav('addressbook-home-set'), caldav('calendar-user-address-set'), dav('displayname'), dav('principal-URL'), dav('resourcetype')),
    });
    assert.equal(response.status, 207);
    const [principal] = parseMultistatus(response.text);
    assert.equal(textContent(principal!.props.get(caldav('calendar-home-set'))!.element).trim(), '/calendars/alice/');
    assert.equal(textContent(principal!.props.get(carddav('addressbook-home-set'))!.element).trim(), '/addressbooks/alice/');
    assert.match(textContent(principal!.props.get(caldav('calendar-user-address-set'))!.element), /mailto:alice@example\.com/u);
    assert.equal(textContent(principal!.props.get(dav('displayname'))!.element), 'ALICE');
    assert.equal(textContent(principal!.props.get(dav('principal-URL'))!.element).trim(), '/principals/alice/');
  });

  void it('creates the homes with a default calendar and address book on first use', async () => {
    const calendars = await h.send('PROPFIND', '/calendars/alice/', { headers: { depth: '1' }, body: propfindBody(dav('resourcetype'), dav('displayname'), caldav('supported-calendar-component-set')) });
    assert.equal(calendars.status, 207);
    const listing = parseMultistatus(calendars.text);
    assert.deepEqual(listing.map((r) => r.href), ['/calendars/alice/', '/calendars/alice/default/']);
    const calendar = listing[1]!;
    assert.ok(calendar.props.get(dav('resourcetype'))!.element.children.some((c) => c.type === 'element' && c.name === caldav('calendar')));
    assert.equal(textContent(calendar.props.get(dav('displayname'))!.element), 'Calendar');
    const components = calendar.props.get(caldav('supported-calendar-component-set'))!.element.children.filter((c) => c.type === 'element');
    assert.equal(components.length, 2);

    const books = await h.send('PROPFIND', '/addressbooks/alice/', { headers: { depth: '1' }, body: propfindBody(dav('resourcetype')) });
    assert.deepEqual(parseMultistatus(books.text).map((r) => r.href), ['/addressbooks/alice/', '/addressbooks/alice/default/']);
  });

  void it('reports unknown properties as 404 inside the 207, and drops them under Prefer: return=minimal', async () => {
    const body = propfindBody(dav('displayname'), caldav('no-such-thing'));
    const full = parseMultistatus((await h.send('PROPFIND', '/calendars/alice/default/', { headers: { depth: '0' }, body })).text)[0]!;
    assert.equal(full.props.get(caldav('no-such-thing'))?.status, 'HTTP/1.1 404 Not Found');
    const minimal = parseMultistatus((await h.send('PROPFIND', '/calendars/alice/default/', { headers: { depth: '0', prefer: 'return=minimal' }, body })).text)[0]!;
    assert.equal(minimal.props.has(caldav('no-such-thing')), false);
    assert.equal(minimal.props.get(dav('displayname'))?.status, 'HTTP/1.1 200 OK');
  });

  void it('refuses Depth: infinity with propfind-finite-depth', async () => {
    const response = await h.send('PROPFIND', '/calendars/alice/', { headers: { depth: 'infinity' } });
    assert.equal(response.status, 403);
    assert.match(response.text, /propfind-finite-depth/u);
  });

  void it('lists only the user’s own home under a space', async () => {
    const response = await h.send('PROPFIND', '/calendars/', { headers: { depth: '1' }, body: propfindBody(dav('resourcetype')) });
    assert.deepEqual(parseMultistatus(response.text).map((r) => r.href), ['/calendars/', '/calendars/alice/']);
  });

  void it('answers OPTIONS with an honest DAV header and Allow', async () => {
    const response = await h.send('OPTIONS', '/principals/alice/');
    assert.equal(response.status, 200);
    assert.doesNotMatch(response.headers.DAV ?? '', /\b2\b/u);
    assert.match(response.headers.DAV ?? '', /^1, 3/u);
    assert.match(response.headers.Allow ?? '', /PROPFIND/u);
  });
});
