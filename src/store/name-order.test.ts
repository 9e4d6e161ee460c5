import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { compareCodePoints } from './name-order.ts';

void describe('compareCodePoints', () => {
  void it('orders names exactly as SQLite ORDER BY does (code points, not UTF-16 units)', () => {
    const names = ['b.ics', 'a.ics', 'A.ics', 'ä.ics', '\uffef.ics', '😀.ics', '\ue000.ics', 'a', 'ab', 'a.ics\u0000x', '\ud7ff.ics', 'z'];
    const db = new Database(':memory:');
    try {
      db.exec('CREATE TABLE t (name TEXT NOT NULL)');
      const insert = db.prepare('INSERT INTO t (name) VALUES (?)');
      for (const name of names) insert.run(name);
      const sqliteOrder = (db.prepare('SELECT name FROM t ORDER BY name').all() as { name: string }[]).map((row) => row.name);
      assert.deepEqual([...names].sort(compareCodePoints), sqliteOrder);
      assert.notDeepEqual([...names].sort(), sqliteOrder, 'plain JS order differs for astral characters');
    } finally {
      db.close();
    }
  });
});
