// Parsed (and folded) search indexes of address books, reused from one addressbook-query to the next.
// The store still answers every query with the current index text of each card (one snapshot); a
// card's parsed form is reused only while that text is exactly the one it was parsed from, so an
// edit, a new card or a deletion is seen at once, whichever process made it. Bounded: least
// recently queried books are dropped first. Imports src/vcard and src/ical only.
import { fold } from '../ical/text-match.ts';
import type { Collation } from '../ical/types.ts';
import type { FoldedField } from '../vcard/filter.ts';
import { storedFolded } from '../vcard/search-index.ts';
import type { CardIndex } from '../vcard/validate.ts';

interface Entry {
  readonly text: string;
  readonly index: CardIndex;
  /** Per collation and field, the values folded, computed on first use. */
  readonly folded: FoldedField;
}

export interface IndexedCard {
  readonly name: string;
  readonly index: CardIndex;
  readonly folded: FoldedField;
}

export class CardIndexCache {
  readonly #maxCards: number;
  // Map order is recency order: a queried book moves to the end.
  readonly #books = new Map<number, Map<string, Entry>>();
  #cards = 0;

  constructor(maxCards: number) {
    this.#maxCards = maxCards;
  }

  /** Cards currently held, over all books. */
  get size(): number {
    return this.#cards;
  }

  /** The parsed index of every row that has one, reusing earlier parses of identical text. */
  cards(bookId: number, rows: readonly { readonly name: string; readonly searchIndex: string | null }[]): IndexedCard[] {
    const previous = this.#books.get(bookId);
    const current = new Map<string, Entry>();
    const out: IndexedCard[] = [];
    for (const row of rows) {
      if (row.searchIndex === null) continue;
      let entry = previous?.get(row.name);
      if (entry === undefined || entry.text !== row.searchIndex) entry = parseEntry(row.searchIndex);
      current.set(row.name, entry);
      out.push({ name: row.name, index: entry.index, folded: entry.folded });
    }
    this.#remember(bookId, previous, current);
    return out;
  }

  #remember(bookId: number, previous: Map<string, Entry> | undefined, current: Map<string, Entry>): void {
    if (previous !== undefined) {
      this.#books.delete(bookId);
      this.#cards -= previous.size;
    }
    if (current.size > this.#maxCards) return;
    this.#books.set(bookId, current);
    this.#cards += current.size;
    for (const [id, book] of this.#books) {
      if (this.#cards <= this.#maxCards) break;
      this.#books.delete(id);
      this.#cards -= book.size;
    }
  }
}

function parseEntry(text: string): Entry {
  const index = JSON.parse(text) as CardIndex;
  return { text, index, folded: folder(index) };
}

/** One card's parsed index, not kept (for lists already narrowed to a few candidates). */
export function parseIndexedCard(name: string, text: string): IndexedCard {
  const { index, folded } = parseEntry(text);
  return { name, index, folded };
}

function folder(index: CardIndex): FoldedField {
  // Values folded under i;unicode-casemap at write time by a process of the same Unicode version.
  const stored = storedFolded(index);
  const known = new Map<string, readonly string[]>();
  return (field: keyof CardIndex, collation: Collation): readonly string[] => {
    const key = `${collation} ${field}`;
    if (stored !== undefined && collation === 'i;unicode-casemap') return stored[field];
    let values = known.get(key);
    if (values === undefined) {
      values = index[field].map((value) => fold(value, collation));
      known.set(key, values);
    }
    return values;
  };
}
