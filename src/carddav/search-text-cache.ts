// Per process: the search-index texts of recently queried address books (search-text.ts), so an
// addressbook-query narrows its candidates in memory instead of having the store visit every row.
// Exact by construction: texts are used only when they are as of the book's change position read
// by this request or later (every write moves that position in its own transaction, whichever
// process or node made it); when the position moved, only the members the change log names since
// the held position are read again (Store.searchIndexSince, one snapshot), and the store reads the
// whole book instead whenever the log cannot tell. Keyed like the listing cache (src/dav/listing-
// cache.ts): store epoch, id, path and creation time, so a book deleted and made again at the same
// path is never answered from the old one's texts. Bounded in characters, least recently used out.
// Imports store types and search-text.ts only.
import type { SearchIndexDelta, Store } from '../store/store.ts';
import type { CollectionRecord } from '../store/types.ts';
import { BookSearchText } from './search-text.ts';

/** Books remembered as too large to hold, so they are not read whole on every query. */
const MAX_TOO_LARGE = 1000;

export class SearchTextCache {
  readonly #maxChars: number;
  // Map order is recency order: a queried book moves to the end.
  readonly #books = new Map<string, { texts: BookSearchText; chars: number }>();
  #chars = 0;
  /** Key → object count when the book did not fit; tried again once it has shrunk to half of that. */
  readonly #tooLarge = new Map<string, number>();
  /** Reads in flight per key, so concurrent queries of a cold book read it once. */
  readonly #reading = new Map<string, Promise<BookSearchText | undefined>>();

  constructor(maxChars: number) {
    this.#maxChars = maxChars;
  }

  /** Characters held over all books. */
  get chars(): number {
    return this.#chars;
  }

  /** Books held. */
  get books(): number {
    return this.#books.size;
  }

  /**
   * The texts of `book` as of its change position `book.syncSeq` or later, or undefined when this
   * cache does not serve it (too large, or the store's collection under that id is another one): the
   * caller then asks the store to narrow, as without a cache.
   */
  async texts(store: Store, epoch: string, book: CollectionRecord): Promise<BookSearchText | undefined> {
    const key = [epoch, book.id, book.path, book.createdAt].join('\u0000');
    const tooLarge = this.#tooLarge.get(key);
    if (tooLarge !== undefined) {
      if (book.objectCount * 2 > tooLarge) return undefined;
      this.#tooLarge.delete(key);
    }
    const held = this.#books.get(key);
    if (held !== undefined && held.texts.seq >= book.syncSeq) {
      this.#books.delete(key);
      this.#books.set(key, held);
      return held.texts;
    }
    const reading = this.#reading.get(key);
    if (reading !== undefined) {
      // A read started before this request resolved the book may be older than its position.
      const texts = await reading;
      if (texts !== undefined && texts.seq >= book.syncSeq) return texts;
    }
    const read = this.#refresh(store, key, book);
    this.#reading.set(key, read);
    try {
      return await read;
    } finally {
      if (this.#reading.get(key) === read) this.#reading.delete(key);
    }
  }

  async #refresh(store: Store, key: string, book: CollectionRecord): Promise<BookSearchText | undefined> {
    const base = this.#books.get(key)?.texts;
    let delta: SearchIndexDelta;
    try {
      delta = await store.searchIndexSince(book.id, base?.seq ?? 0);
    } catch (error) {
      this.#forget(key);
      throw error;
    }
    if (delta.createdAt !== book.createdAt) return undefined;
    let texts: BookSearchText;
    if (delta.complete || base === undefined) {
      texts = new BookSearchText(delta);
    } else {
      // `base` may have moved on while the store answered; apply() keeps whichever is newer.
      base.apply(delta);
      texts = base;
    }
    const now = this.#books.get(key);
    if (now !== undefined && now.texts !== texts && now.texts.seq >= texts.seq) return now.texts;
    this.#forget(key);
    if (texts.chars > this.#maxChars) {
      this.#tooLarge.set(key, book.objectCount);
      for (const old of this.#tooLarge.keys()) {
        if (this.#tooLarge.size <= MAX_TOO_LARGE) break;
        this.#tooLarge.delete(old);
      }
      return texts;
    }
    this.#books.set(key, { texts, chars: texts.chars });
    this.#chars += texts.chars;
    for (const [old, entry] of this.#books) {
      if (this.#chars <= this.#maxChars) break;
      this.#books.delete(old);
      this.#chars -= entry.chars;
    }
    return texts;
  }

  #forget(key: string): void {
    const entry = this.#books.get(key);
    if (entry === undefined) return;
    this.#books.delete(key);
    this.#chars -= entry.chars;
  }
}

/**
 * One per process (each serving worker has its own): 16 M characters, ≈16 MB while the texts are
 * Latin-1 and up to twice that beyond. A 10,000-card book of the bench's contacts (~500 characters
 * of index text per card, each text also kept joined once) holds ~10 M, so one such book or a few
 * dozen of a few hundred cards; a book larger than the whole cap is narrowed by the store as before.
 * Kept small because every worker holds its own copy (issue 9's memory target is 200 MB per node).
 */
export const SEARCH_TEXTS = new SearchTextCache(16 * 1024 * 1024);
