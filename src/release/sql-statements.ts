// Splits SQLite SQL text into statements and tokens the way SQLite reads it: semicolons inside
// strings, quoted names and comments do not end a statement, nor do those inside a CREATE TRIGGER
// body (BEGIN … END, with CASE … END nested). Pure text processing: imports nothing.

export type SqlTokenKind = 'word' | 'quoted' | 'string' | 'blob' | 'number' | 'param' | 'punct';

export interface SqlToken {
  readonly kind: SqlTokenKind;
  /** The token as written. */
  readonly text: string;
  /**
   * For a word: its upper-case spelling (keywords compare on it). For a quoted name: the name
   * without quotes. For a string: its content. Otherwise the text.
   */
  readonly value: string;
  /** Offset of the first character in the source. */
  readonly start: number;
  /** Offset after the last character. */
  readonly end: number;
}

/** What was left open when the text ended. */
export type SqlUnterminated = 'string' | 'quoted name' | 'trigger body';

export interface SqlStatement {
  /** The statement's source from its first to its last token, without the closing semicolon. */
  readonly text: string;
  readonly tokens: readonly SqlToken[];
  /** 1-based line of the first token. */
  readonly line: number;
  readonly unterminated?: SqlUnterminated;
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/u;
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/u;
const DIGIT = /[0-9]/u;
const SPACE = /\s/u;
// Longest first, so `->>` wins over `->` and `-`.
const OPERATORS = ['->>', '->', '||', '<=', '>=', '==', '!=', '<>', '<<', '>>'];

interface Tokenized {
  readonly tokens: SqlToken[];
  readonly unterminated?: 'string' | 'quoted name';
}

/** Reads a run quoted by `close`, where a doubled `close` stands for one (SQL's escape). */
function quotedEnd(sql: string, from: number, close: string, doubling: boolean): number | null {
  let i = from;
  while (i < sql.length) {
    if (sql[i] === close) {
      if (doubling && sql[i + 1] === close) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i += 1;
  }
  return null;
}

/** SQLite's tokens without whitespace and comments. An unterminated /* comment runs to the end, as in SQLite. */
export function tokenizeSql(sql: string): Tokenized {
  const tokens: SqlToken[] = [];
  const push = (kind: SqlTokenKind, start: number, end: number, value?: string): void => {
    const text = sql.slice(start, end);
    tokens.push({ kind, text, value: value ?? (kind === 'word' ? text.toUpperCase() : text), start, end });
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] ?? '';
    const next = sql[i + 1] ?? '';
    if (SPACE.test(c)) {
      i += 1;
    } else if (c === '-' && next === '-') {
      const newline = sql.indexOf('\n', i);
      i = newline === -1 ? sql.length : newline + 1;
    } else if (c === '/' && next === '*') {
      const close = sql.indexOf('*/', i + 2);
      i = close === -1 ? sql.length : close + 2;
    } else if (c === "'") {
      const end = quotedEnd(sql, i + 1, "'", true);
      if (end === null) return { tokens, unterminated: 'string' };
      push('string', i, end, sql.slice(i + 1, end - 1).replaceAll("''", "'"));
      i = end;
    } else if ((c === 'x' || c === 'X') && next === "'") {
      const end = quotedEnd(sql, i + 2, "'", false);
      if (end === null) return { tokens, unterminated: 'string' };
      push('blob', i, end);
      i = end;
    } else if (c === '"' || c === '`') {
      const end = quotedEnd(sql, i + 1, c, true);
      if (end === null) return { tokens, unterminated: 'quoted name' };
      push('quoted', i, end, sql.slice(i + 1, end - 1).replaceAll(c + c, c));
      i = end;
    } else if (c === '[') {
      const end = quotedEnd(sql, i + 1, ']', false);
      if (end === null) return { tokens, unterminated: 'quoted name' };
      push('quoted', i, end, sql.slice(i + 1, end - 1));
      i = end;
    } else if (DIGIT.test(c) || (c === '.' && DIGIT.test(next))) {
      let end = i;
      if (c === '0' && (next === 'x' || next === 'X')) {
        end = i + 2;
        while (end < sql.length && /[0-9A-Fa-f_]/u.test(sql[end] ?? '')) end += 1;
      } else {
        while (end < sql.length && /[0-9_.]/u.test(sql[end] ?? '')) end += 1;
        if (/[eE]/u.test(sql[end] ?? '') && /[0-9+-]/u.test(sql[end + 1] ?? '')) {
          end += 2;
          while (end < sql.length && DIGIT.test(sql[end] ?? '')) end += 1;
        }
      }
      push('number', i, end);
      i = end;
    } else if (c === '?' || ((c === ':' || c === '@' || c === '$') && WORD_START.test(next))) {
      let end = i + 1;
      while (end < sql.length && (c === '?' ? DIGIT : WORD_PART).test(sql[end] ?? '')) end += 1;
      push('param', i, end);
      i = end;
    } else if (WORD_START.test(c)) {
      let end = i + 1;
      while (end < sql.length && WORD_PART.test(sql[end] ?? '')) end += 1;
      push('word', i, end);
      i = end;
    } else {
      const operator = OPERATORS.find((op) => sql.startsWith(op, i));
      const end = i + (operator?.length ?? 1);
      push('punct', i, end);
      i = end;
    }
  }
  return { tokens };
}

function lineOf(sql: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i += 1) if (sql.charCodeAt(i) === 10) line += 1;
  return line;
}

function isWord(token: SqlToken | undefined, word: string): boolean {
  return token?.kind === 'word' && token.value === word;
}

/** Whether the statement so far starts with CREATE [TEMP|TEMPORARY] TRIGGER. */
function startsTrigger(tokens: readonly SqlToken[]): boolean {
  if (!isWord(tokens[0], 'CREATE')) return false;
  const second = tokens[1];
  if (isWord(second, 'TEMP') || isWord(second, 'TEMPORARY')) return isWord(tokens[2], 'TRIGGER');
  return isWord(second, 'TRIGGER');
}

/**
 * The statements of `sql`, in order; empty statements (`;;`) are skipped. A statement the text
 * leaves open (a string, a quoted name, a trigger body) comes last, marked `unterminated`.
 */
export function splitSqlStatements(sql: string): SqlStatement[] {
  const { tokens, unterminated } = tokenizeSql(sql);
  const statements: SqlStatement[] = [];
  let current: SqlToken[] = [];
  // Trigger state: 'header' until the body's BEGIN, 'body' until its END, then 'done'.
  let trigger: 'no' | 'header' | 'body' | 'done' = 'no';
  let caseDepth = 0;

  const finish = (open?: SqlUnterminated): void => {
    const first = current[0];
    const last = current[current.length - 1];
    if (first !== undefined && last !== undefined) {
      const text = sql.slice(first.start, open === undefined || open === 'trigger body' ? last.end : sql.length).trim();
      statements.push(open === undefined ? { text, tokens: current, line: lineOf(sql, first.start) } : { text, tokens: current, line: lineOf(sql, first.start), unterminated: open });
    } else if (open !== undefined && open !== 'trigger body') {
      const text = sql.slice(tokens[tokens.length - 1]?.end ?? 0).trim();
      statements.push({ text, tokens: [], line: lineOf(sql, sql.length - text.length), unterminated: open });
    }
    current = [];
    trigger = 'no';
    caseDepth = 0;
  };

  for (const token of tokens) {
    if (token.kind === 'punct' && token.text === ';' && trigger !== 'body') {
      finish();
      continue;
    }
    current.push(token);
    if (trigger === 'no' && current.length <= 3 && startsTrigger(current)) trigger = 'header';
    if (trigger === 'no' || trigger === 'done' || token.kind !== 'word') continue;
    // CASE … END may appear in the WHEN clause and in the body's statements; only an END that
    // closes no CASE ends the body. Trigger bodies cannot nest BEGIN.
    if (token.value === 'CASE') caseDepth += 1;
    else if (token.value === 'END' && caseDepth > 0) caseDepth -= 1;
    else if (token.value === 'BEGIN' && trigger === 'header' && caseDepth === 0) trigger = 'body';
    else if (token.value === 'END' && trigger === 'body') trigger = 'done';
  }
  if (unterminated !== undefined) finish(unterminated);
  else if (trigger === 'header' || trigger === 'body') finish('trigger body');
  else finish();
  return statements;
}
