// The `database` setting: empty means SQLite in the data folder; a postgres:// URL selects
// PostgreSQL, from a flag or ALMANAC_DATABASE; anything else is refused at start, naming the setting.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

void it('selects PostgreSQL from the flag or ALMANAC_DATABASE, SQLite by default, and refuses other URLs', () => {
  assert.equal(loadConfig({}, {}).database, '');
  assert.equal(loadConfig({}, { ALMANAC_DATABASE: 'postgres://u@db/almanac' }).database, 'postgres://u@db/almanac');
  assert.equal(loadConfig({ database: 'postgresql://u@db/other' }, { ALMANAC_DATABASE: 'postgres://u@db/almanac' }).database, 'postgresql://u@db/other');
  assert.throws(
    () => loadConfig({}, { ALMANAC_DATABASE: 'mysql://u@db/almanac' }),
    (error: unknown) => error instanceof ConfigError && /database \(flag --database, env ALMANAC_DATABASE\) from environment/u.test(error.message),
  );
});

void it('takes a read replica URL from ALMANAC_DATABASE_REPLICA, empty by default, and refuses anything but postgres://', () => {
  assert.equal(loadConfig({}, {}).databaseReplica, '');
  assert.equal(loadConfig({}, { ALMANAC_DATABASE_REPLICA: 'postgres://u@replica/almanac' }).databaseReplica, 'postgres://u@replica/almanac');
  assert.throws(
    () => loadConfig({ databaseReplica: 'http://replica' }, {}),
    (error: unknown) => error instanceof ConfigError && /databaseReplica \(flag --database-replica, env ALMANAC_DATABASE_REPLICA\) from command line/u.test(error.message),
  );
});
