// Cross-user isolation: every method alice can send against each of bob's resources is refused
// (403/404) without leaking bob's names or existence, and leaves bob's data exactly as it was.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dav } from '../../src/dav/xml/names.ts';
import { textContent } from '../../src/dav/xml/tree.ts';
import { Harness, parseMultistatus, propfindBody, type TestResponse } from '../support/harness.ts';

interface Probe {
  readonly label: string;
  readonly method: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

const LISTING = propfindBody(dav('resourcetype'), dav('displayname'), dav('getetag'), dav('getcontentlength'));
const PROPPATCH = `<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>hijacked by mallory</D:displayname></D:prop></D:set></D:propertyupdate>`;
const REPORT = `<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`;

const PROBES: readonly Probe[] = [
  { label: 'OPTIONS', method: 'OPTIONS' },
  { label: 'GET', method: 'GET' },
  { label: 'HEAD', method: 'HEAD' },
  { label: 'PUT', method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'overwritten by mallory\n' },
  { label: 'DELETE', method: 'DELETE' },
  { label: 'PROPFIND Depth 0', method: 'PROPFIND', headers: { depth: '0' }, body: LISTING },
  { label: 'PROPFIND Depth 1', method: 'PROPFIND', headers: { depth: '1' }, body: LISTING },
  { label: 'PROPPATCH', method: 'PROPPATCH', headers: { 'content-type': 'application/xml' }, body: PROPPATCH },
  { label: 'MKCOL', method: 'MKCOL' },
  { label: 'MKCALENDAR', method: 'MKCALENDAR' },
  { label: 'COPY', method: 'COPY', headers: { destination: '/files/alice/loot', overwrite: 'T' } },
  { label: 'MOVE', method: 'MOVE', headers: { destination: '/files/alice/loot', overwrite: 'T' } },
  { label: 'REPORT', method: 'REPORT', headers: { depth: '1', 'content-type': 'application/xml' }, body: REPORT },
];

/** Bob's resources; each is probed as alice, and compared with the same path under carol and nobody. */
const BOB_PATHS = [
  '/principals/bob/',
  '/calendars/bob/',
  '/calendars/bob/default/',
  '/calendars/bob/default/e1.ics',
  '/addressbooks/bob/',
  '/addressbooks/bob/default/',
  '/addressbooks/bob/default/c1.vcf',
  '/files/bob/',
  '/files/bob/f.txt',
  '/files/bob/dir/',
] as const;

const BOB_COLLECTIONS = ['/calendars/bob/', '/calendars/bob/default/', '/addressbooks/bob/', '/addressbooks/bob/default/', '/files/bob/', '/files/bob/dir/'];
const BOB_OBJECTS = ['/calendars/bob/default/e1.ics', '/addressbooks/bob/default/c1.vcf', '/files/bob/f.txt'];

const EVENT = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//isolation//EN\r\nBEGIN:VEVENT\r\nUID:bob-e1\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240102T100000Z\r\nSUMMARY:Bob private meeting\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n';
const CONTACT = 'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bob-c1\r\nFN:Bob Secret Friend\r\nN:Friend;Bob;;;\r\nEND:VCARD\r\n';

/** What bob (and alice, for her own files) can observe; any change made by alice's request shows up here. */
async function snapshot(h: Harness): Promise<string> {
  const lines: string[] = [];
  for (const path of BOB_COLLECTIONS) {
    const response = await h.send('PROPFIND', path, { as: h.as('bob'), headers: { depth: '1' }, body: LISTING });
    lines.push(`${path} → ${response.status}`);
    if (response.status !== 207) continue;
    for (const member of parseMultistatus(response.text)) {
      const values = [...member.props].map(([name, { status, element }]) => `${name}=${status}:${textContent(element)}`).sort();
      lines.push(`  ${member.href} ${values.join(' ')}`);
    }
  }
  for (const path of BOB_OBJECTS) {
    const response = await h.send('GET', path, { as: h.as('bob') });
    lines.push(`${path} → ${response.status} ${response.headers.ETag ?? '-'} ${JSON.stringify(response.text)}`);
  }
  const principal = await h.send('PROPFIND', '/principals/bob/', { as: h.as('bob'), headers: { depth: '0' }, body: propfindBody(dav('displayname')) });
  lines.push(`/principals/bob/ → ${principal.status} ${principal.text}`);
  const aliceFiles = await h.send('PROPFIND', '/files/alice/', { as: h.as('alice'), headers: { depth: '1' }, body: LISTING });
  lines.push(`/files/alice/ → ${aliceFiles.status} ${parseMultistatus(aliceFiles.text).map((r) => r.href).join(' ')}`);
  return lines.join('\n');
}

/** Lines that differ between two snapshots, or undefined when nothing changed. */
function changes(before: string, after: string): string | undefined {
  if (before === after) return undefined;
  const was = new Set(before.split('\n'));
  const now = new Set(after.split('\n'));
  const gone = [...was].filter((line) => !now.has(line)).map((line) => `- ${line}`);
  const added = [...now].filter((line) => !was.has(line)).map((line) => `+ ${line}`);
  return [...gone, ...added].join('\n');
}

/** Problems with what alice saw: bob named in the body or a Location, beyond the target she sent herself. */
function leaks(response: TestResponse, target: string): string[] {
  const decoded = decodeURIComponent(target);
  const scrub = (text: string): string => text.split(target).join('').split(decoded).join('');
  const problems: string[] = [];
  if (/bob/iu.test(scrub(response.text))) problems.push(`the body mentions bob: ${response.text.slice(0, 300)}`);
  for (const name of ['Location', 'Content-Location']) {
    const value = response.headers[name];
    if (value !== undefined && /bob/iu.test(scrub(value))) problems.push(`${name} names bob's space: ${value}`);
  }
  return problems;
}

const REFUSED = [403, 404];

void describe('cross-user isolation', () => {
  let h: Harness;
  /** Methods this server implements for no resource at all (501 then reveals nothing). */
  const unimplemented = new Set<string>();

  before(async () => {
    h = await Harness.start(['alice', 'bob', 'carol']);
    const bob = h.as('bob');
    const puts: [string, string, string][] = [
      ['/calendars/bob/default/e1.ics', EVENT, 'text/calendar; charset=utf-8'],
      ['/addressbooks/bob/default/c1.vcf', CONTACT, 'text/vcard; charset=utf-8'],
      ['/files/bob/f.txt', 'bob private file\n', 'text/plain'],
    ];
    for (const [path, body, type] of puts) {
      const response = await h.send('PUT', path, { as: bob, headers: { 'content-type': type }, body });
      assert.equal(response.status, 201, `setup PUT ${path}: ${response.text}`);
    }
    assert.equal((await h.send('MKCOL', '/files/bob/dir/', { as: bob })).status, 201);
    assert.equal((await h.send('PUT', '/files/bob/dir/inner.txt', { as: bob, body: 'inner\n' })).status, 201);
    // A display name that names bob, so a leaked property value shows up in the body checks.
    assert.equal((await h.send('PROPPATCH', '/calendars/bob/default/', { as: bob, body: PROPPATCH.replace('hijacked by mallory', 'Bob Work Calendar') })).status, 207);
    // carol exists and has her homes, but none of bob's resources.
    assert.equal((await h.send('PROPFIND', '/', { as: h.as('carol'), headers: { depth: '0' } })).status, 207);
    assert.equal((await h.send('PUT', '/files/alice/mine.txt', { as: h.as('alice'), body: 'alice own\n' })).status, 201);
    assert.equal((await h.send('MKCOL', '/files/alice/mydir/', { as: h.as('alice') })).status, 201);
    for (const probe of PROBES) {
      // A method the server answers 501 even on the root is implemented nowhere; its 501 says nothing about bob.
      const own = await h.send(probe.method, '/', { headers: probe.headers ?? {}, ...(probe.body === undefined ? {} : { body: probe.body }) });
      if (own.status === 501) unimplemented.add(probe.method);
    }
  });
  after(async () => h.close());

  for (const path of BOB_PATHS) {
    for (const probe of PROBES) {
      void it(`${probe.label} ${path} as alice is refused, leaks nothing and changes nothing`, async () => {
        const what = `${probe.label} ${path} as alice`;
        const send = (target: string): Promise<TestResponse> =>
          h.send(probe.method, target, { as: h.as('alice'), headers: { ...(probe.headers ?? {}) }, ...(probe.body === undefined ? {} : { body: probe.body }) });
        const before = await snapshot(h);
        const nobody = await send(path.replace('/bob/', '/nobody/'));
        const carol = await send(path.replace('/bob/', '/carol/'));
        const bob = await send(path);
        const problems: string[] = [];
        const allowed = unimplemented.has(probe.method) ? [...REFUSED, 501] : REFUSED;
        if (!allowed.includes(bob.status)) problems.push(`status ${bob.status}, expected ${allowed.join(' or ')} (body: ${JSON.stringify(bob.text.slice(0, 200))})`);
        problems.push(...leaks(bob, path));
        if (bob.status !== nobody.status) problems.push(`existence leaks: bob's existing resource answers ${bob.status}, the same path under a user that does not exist ${nobody.status}`);
        if (bob.status !== carol.status) problems.push(`existence leaks: bob's existing resource answers ${bob.status}, the same path under carol (who has no such resource) ${carol.status}`);
        if (bob.status === nobody.status && bob.text !== nobody.text.split('nobody').join('bob')) problems.push(`bodies differ from a user that does not exist: ${JSON.stringify(bob.text.slice(0, 200))} vs ${JSON.stringify(nobody.text.slice(0, 200))}`);
        const changed = changes(before, await snapshot(h));
        if (changed !== undefined) problems.push(`stored data changed:\n${changed}`);
        assert.deepEqual(problems, [], `${what}:\n${problems.join('\n')}`);
      });
    }
  }

  // Creating new names inside bob's space, which no existing resource guards.
  const creations: [string, string][] = [
    ['PUT', '/files/bob/planted.txt'],
    ['PUT', '/files/bob/dir/planted.txt'],
    ['PUT', '/calendars/bob/default/planted.ics'],
    ['PUT', '/addressbooks/bob/default/planted.vcf'],
    ['MKCOL', '/files/bob/planted/'],
    ['MKCOL', '/files/bob/dir/planted/'],
    ['MKCALENDAR', '/calendars/bob/planted/'],
  ];
  for (const [method, path] of creations) {
    void it(`${method} ${path} (a new name in bob's space) as alice is refused and creates nothing`, async () => {
      const what = `${method} ${path} as alice`;
      const before = await snapshot(h);
      const body = method === 'PUT' ? 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n' : undefined;
      const response = await h.send(method, path, { as: h.as('alice'), ...(body === undefined ? {} : { body }) });
      const nobody = await h.send(method, path.replace('/bob/', '/nobody/'), { as: h.as('alice'), ...(body === undefined ? {} : { body }) });
      const problems: string[] = [];
      const allowed = unimplemented.has(method) ? [...REFUSED, 501] : REFUSED;
      if (!allowed.includes(response.status)) problems.push(`status ${response.status}, expected ${allowed.join(' or ')} (body: ${JSON.stringify(response.text.slice(0, 200))}, Location: ${response.headers.Location ?? '-'})`);
      if (response.status !== nobody.status) problems.push(`existence leaks: bob's space answers ${response.status}, a user that does not exist ${nobody.status}`);
      problems.push(...leaks(response, path));
      const changed = changes(before, await snapshot(h));
      if (changed !== undefined) problems.push(`stored data changed:\n${changed}`);
      const created = await h.send('PROPFIND', path, { as: h.as('bob'), headers: { depth: '0' } });
      if (created.status !== 404) problems.push(`bob now has ${path} (PROPFIND as bob: ${created.status})`);
      assert.deepEqual(problems, [], `${what}:\n${problems.join('\n')}`);
    });
  }

  const sources = ['/files/alice/mine.txt', '/files/alice/mydir/'];
  const destinations = [
    'http://localhost/files/bob/stolen.txt',
    '/files/bob/stolen.txt',
    '/files/bob/dir/stolen.txt',
    '/calendars/bob/default/stolen.ics',
    'http://localhost/files/alice/%2e%2e/bob/stolen.txt',
  ];
  for (const method of ['COPY', 'MOVE']) {
    for (const source of sources) {
      for (const destination of destinations) {
        void it(`${method} ${source} → ${destination} as alice is refused and creates nothing for bob`, async () => {
          const what = `${method} ${source} → ${destination} as alice`;
          const before = await snapshot(h);
          const response = await h.send(method, source, { as: h.as('alice'), headers: { destination, overwrite: 'T' } });
          const problems: string[] = [];
          // A destination with dot segments is malformed before it is foreign: 400 refuses it just as well.
          const allowed = destination.includes('%2e%2e') ? [400, ...REFUSED] : REFUSED;
          if (!allowed.includes(response.status)) problems.push(`status ${response.status}, expected ${allowed.join(' or ')} (body: ${JSON.stringify(response.text.slice(0, 200))})`);
          problems.push(...leaks(response, destination));
          const changed = changes(before, await snapshot(h));
          if (changed !== undefined) problems.push(`stored data changed:\n${changed}`);
          for (const stolen of ['/files/bob/stolen.txt', '/files/bob/stolen.txt/', '/files/bob/dir/stolen.txt', '/calendars/bob/default/stolen.ics']) {
            const found = await h.send('PROPFIND', stolen, { as: h.as('bob'), headers: { depth: '0' } });
            if (found.status !== 404) problems.push(`${stolen} exists for bob (${found.status})`);
          }
          const still = await h.send('PROPFIND', source, { as: h.as('alice'), headers: { depth: '0' } });
          if (still.status !== 207) problems.push(`alice's source ${source} is gone (${still.status})`);
          assert.deepEqual(problems, [], `${what}:\n${problems.join('\n')}`);
        });
      }
    }
  }

  for (const space of ['/', '/principals/', '/calendars/', '/addressbooks/', '/files/']) {
    void it(`PROPFIND Depth 1 on ${space} as alice lists only alice`, async () => {
      const response = await h.send('PROPFIND', space, { as: h.as('alice'), headers: { depth: '1' }, body: LISTING });
      assert.equal(response.status, 207);
      const hrefs = parseMultistatus(response.text).map((r) => r.href);
      assert.ok(hrefs.length > 1, `${space}: no members listed`);
      for (const href of hrefs) assert.doesNotMatch(href, /bob|carol/u, `${space} lists ${href}`);
      assert.doesNotMatch(response.text, /bob|carol/iu, `${space}: the body mentions another user`);
      if (space !== '/') assert.ok(hrefs.some((href) => href.includes('/alice/')), `${space}: alice's own entry is missing`);
    });
    void it(`GET on ${space} as alice lists only alice`, async () => {
      const response = await h.send('GET', space, { as: h.as('alice') });
      assert.equal(response.status, 200);
      assert.doesNotMatch(response.text, /bob|carol/iu, `GET ${space}: the index mentions another user`);
    });
  }
});
