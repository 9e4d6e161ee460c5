// DESIGN.md §5.5 as a rule the suite checks: this release serves correctly on the oldest schema it
// declares (MINIMUM_SCHEMA_VERSION), so refusing to migrate an unexpected release is never an outage.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { hashPassword } from '../../src/auth/passwords.ts';
import { DEFAULTS } from '../../src/config/config.ts';
import type { DavServer } from '../../src/dav/server.ts';
import { buildDavServer } from '../../src/http/app.ts';
import { MINIMUM_SCHEMA_VERSION, SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations/index.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';

const AUTH = `Basic ${Buffer.from('alice:pw').toString('base64')}`;
const EVENT = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260105T100000Z\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n';
const CARD = 'BEGIN:VCARD\r\nVERSION:4.0\r\nUID:c1\r\nFN:Zoë Example\r\nEMAIL:zoe@example.com\r\nEND:VCARD\r\n';

void describe(`serving on the minimum schema (migration ${MINIMUM_SCHEMA_VERSION})`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'almanac-old-schema-'));
  let store: SqliteStore;
  let dav: DavServer;
  const send = async (method: string, target: string, body = '', headers: Record<string, string> = {}) => {
    const { response } = await dav.handle({ method, target, headers: { authorization: AUTH, ...headers }, body: Buffer.from(body), requestId: 't', clientAddress: '127.0.0.1' });
    return { status: response.status, text: typeof response.body === 'string' ? response.body : Buffer.from(response.body ?? new Uint8Array()).toString() };
  };

  before(async () => {
    store = SqliteStore.open({ dataDir: dir, migrations: SQLITE_MIGRATIONS.slice(0, MINIMUM_SCHEMA_VERSION) });
    await store.createUser({ name: 'alice', email: null, displayName: null, passwordHash: await hashPassword('pw') });
    dav = buildDavServer(store, { ...DEFAULTS, data: dir, logLevel: 'silent' }, pino({ level: 'silent' }));
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  void it('really runs on the old schema', () => {
    assert.deepEqual(store.releaseRecords().applied, SQLITE_MIGRATIONS.slice(0, MINIMUM_SCHEMA_VERSION).map((m) => m.version));
  });

  void it('stores, finds and syncs events and contacts', async () => {
    assert.equal((await send('PUT', '/calendars/alice/default/e1.ics', EVENT, { 'content-type': 'text/calendar' })).status, 201);
    assert.equal((await send('PUT', '/addressbooks/alice/default/c1.vcf', CARD, { 'content-type': 'text/vcard' })).status, 201);
    const query = await send('REPORT', '/calendars/alice/default/', '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20260119T000000Z" end="20260120T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>', { depth: '1' });
    assert.equal(query.status, 207);
    assert.match(query.text, /e1\.ics/u);
    const cards = await send('REPORT', '/addressbooks/alice/default/', '<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop><C:filter><C:prop-filter name="FN"><C:text-match>zoë</C:text-match></C:prop-filter></C:filter></C:addressbook-query>', { depth: '1' });
    assert.match(cards.text, /c1\.vcf/u);
    const sync = await send('REPORT', '/calendars/alice/default/', '<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>');
    assert.equal(sync.status, 207);
    assert.match(sync.text, /e1\.ics/u);
    assert.equal((await send('DELETE', '/calendars/alice/default/e1.ics')).status, 204);
  });
});
