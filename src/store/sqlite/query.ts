// Runs Kysely-built queries synchronously on better-sqlite3. Kysely is used purely as a typed query
// builder here (compile, then execute on a cached prepared statement), so a whole transaction stays
// synchronous: no other request can interleave inside it, and BEGIN IMMEDIATE takes the write lock up
// front. Must not import the DAV or HTTP layers.
import type Database from 'better-sqlite3';
import {
  DummyDriver,
  Kysely,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type Compilable,
} from 'kysely';
import type { SqliteDatabase } from './schema.ts';

export function queryBuilder(): Kysely<SqliteDatabase> {
  return new Kysely<SqliteDatabase>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new SqliteIntrospector(db),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  });
}

export interface PreparedRead<R> {
  all(...parameters: readonly unknown[]): R[];
  first(...parameters: readonly unknown[]): R | undefined;
}

export class SqliteRunner {
  private readonly statements = new Map<string, Database.Statement>();
  private readonly db: Database.Database;

  constructor(db: Database.Database) {
    this.db = db;
  }

  private prepare(sqlText: string): Database.Statement {
    let statement = this.statements.get(sqlText);
    if (statement === undefined) {
      statement = this.db.prepare(sqlText);
      this.statements.set(sqlText, statement);
    }
    return statement;
  }

  all<R>(query: Compilable<R>): R[] {
    const compiled = query.compile();
    return this.prepare(compiled.sql).all(...(compiled.parameters as unknown[])) as R[];
  }

  first<R>(query: Compilable<R>): R | undefined {
    const compiled = query.compile();
    return this.prepare(compiled.sql).get(...(compiled.parameters as unknown[])) as R | undefined;
  }

  /** For the few statements Kysely cannot express portably (SQLite's bare columns with MAX()). */
  rawAll<R>(sqlText: string, parameters: readonly unknown[]): R[] {
    return this.prepare(sqlText).all(...parameters) as R[];
  }

  /**
   * A statement Kysely builds once: `build` is compiled on first use with stand-in values, and every
   * call binds its own values in the order the stand-ins appear. For the reads every request makes,
   * where compiling the query again each time cost more than running it.
   */
  once<R>(build: () => Compilable<R>): PreparedRead<R> {
    let statement: Database.Statement | undefined;
    let arity = 0;
    const prepared = (parameters: readonly unknown[]): Database.Statement => {
      if (statement === undefined) {
        const compiled = build().compile();
        statement = this.prepare(compiled.sql);
        arity = compiled.parameters.length;
      }
      if (parameters.length !== arity) throw new Error(`statement takes ${arity} parameters, got ${parameters.length}`);
      return statement;
    };
    return {
      all: (...parameters) => prepared(parameters).all(...parameters) as R[],
      first: (...parameters) => prepared(parameters).get(...parameters) as R | undefined,
    };
  }

  run(query: Compilable<unknown>): Database.RunResult {
    const compiled = query.compile();
    return this.prepare(compiled.sql).run(...(compiled.parameters as unknown[]));
  }
}
