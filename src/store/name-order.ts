// Member names in the order the stores' SQL gives them, for results merged or sorted in code.
// Imports nothing.

/**
 * The order both stores give names in SQL (SQLite's BINARY, PostgreSQL's COLLATE "C": UTF-8 bytes,
 * i.e. code points), which JS's UTF-16 `<` differs from for characters past U+D7FF.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Surrogates (astral code points) sort after U+E000-U+FFFF in code point order. */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  return unit >= 0xe000 ? unit - 0x800 : unit;
}
