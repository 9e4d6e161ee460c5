// One address book's stored search-index texts held in memory (name → text, cards stored without an
// index left out, as every index query leaves them out), and the substring narrowing the stores apply
// in SQL (src/store/search-narrowing.ts) applied here with indexOf instead: a card is kept when its
// text lacks the marker, or contains, for every clause, one of the clause's strings. Cards are kept in
// chunks whose texts are also joined into one string, so a narrowing is a few indexOf scans per chunk
// and a write rebuilds one chunk only. Imports store types only.
import type { SearchIndexDelta } from '../store/store.ts';
import type { SearchNarrowing } from '../store/types.ts';

export interface IndexedText {
  readonly name: string;
  readonly searchIndex: string;
}

/** Cards per chunk: a write re-joins one chunk (~256 × a few hundred characters). */
const CHUNK_CARDS = 256;
/** Between two texts of a chunk; a hit reaching past a text's end is not counted for it anyway. */
const SEPARATOR = '\u0000';

class Chunk {
  readonly names: string[] = [];
  readonly texts: string[] = [];
  /** Null while a text changed since the last join. */
  #joined: string | null = null;
  /** Start of each text in #joined. */
  #starts = new Int32Array(0);
  #marker: string | undefined;
  #marked = new Uint8Array(0);

  changed(): void {
    this.#joined = null;
    this.#marker = undefined;
  }

  /** Narrows this chunk's cards into `out`. */
  narrow(narrowing: SearchNarrowing, out: IndexedText[]): void {
    const count = this.names.length;
    const marked = this.#markedBy(narrowing.marker);
    let keep: Uint8Array | null = null;
    for (const clause of narrowing.clauses) {
      const hit = new Uint8Array(count);
      for (const text of clause) this.#mark(text, hit);
      if (keep === null) keep = hit;
      else for (let i = 0; i < count; i++) keep[i] = (keep[i] ?? 0) & (hit[i] ?? 0);
    }
    for (let i = 0; i < count; i++) {
      if (marked[i] === 0 || keep === null || keep[i] === 1) out.push({ name: this.names[i] ?? '', searchIndex: this.texts[i] ?? '' });
    }
  }

  #markedBy(marker: string): Uint8Array {
    if (this.#marker !== marker) {
      this.#marked = new Uint8Array(this.names.length);
      this.#mark(marker, this.#marked);
      this.#marker = marker;
    }
    return this.#marked;
  }

  /** Sets hit[i] for every card whose text contains `needle` (plain, case-sensitive, like instr/strpos). */
  #mark(needle: string, hit: Uint8Array): void {
    if (needle === '') {
      hit.fill(1);
      return;
    }
    const joined = this.#join();
    const starts = this.#starts;
    const last = starts.length - 1;
    let from = 0;
    for (;;) {
      const at = joined.indexOf(needle, from);
      if (at < 0) return;
      // The card whose text starts at or before `at`: the last start ≤ at.
      let lo = 0;
      let hi = last;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((starts[mid] ?? 0) <= at) lo = mid;
        else hi = mid - 1;
      }
      const end = lo === last ? joined.length : (starts[lo + 1] ?? 0) - SEPARATOR.length;
      if (at + needle.length <= end) {
        hit[lo] = 1;
        // One hit per card is enough: go on with the next card.
        from = end + SEPARATOR.length;
      } else {
        from = at + 1;
      }
    }
  }

  #join(): string {
    if (this.#joined === null) {
      const starts = new Int32Array(this.texts.length);
      let offset = 0;
      for (const [i, text] of this.texts.entries()) {
        starts[i] = offset;
        offset += text.length + SEPARATOR.length;
      }
      this.#starts = starts;
      this.#joined = this.texts.join(SEPARATOR);
    }
    return this.#joined;
  }
}

export class BookSearchText {
  /** The address book's change position these texts are as of. */
  #seq: number;
  readonly #chunks: Chunk[] = [];
  readonly #chunkOf = new Map<string, Chunk>();
  #chars = 0;

  constructor(delta: SearchIndexDelta) {
    this.#seq = delta.currentSeq;
    for (const row of delta.members) if (row.searchIndex !== null) this.#set(row.name, row.searchIndex);
  }

  get seq(): number {
    return this.#seq;
  }

  /** Cards held. */
  get size(): number {
    return this.#chunkOf.size;
  }

  /** Characters held: names, texts and the texts' joined copies. */
  get chars(): number {
    return this.#chars;
  }

  /**
   * Brings the texts to `delta.currentSeq`, given the changes after a position no later than this
   * one's. Setting each changed member to its current text is the same whether or not an earlier
   * change among them was applied already.
   */
  apply(delta: SearchIndexDelta): void {
    if (delta.complete) throw new Error('a complete read makes a new BookSearchText');
    if (delta.currentSeq < this.#seq) return;
    for (const name of delta.removed) this.#delete(name);
    for (const row of delta.members) {
      if (row.searchIndex === null) this.#delete(row.name);
      else this.#set(row.name, row.searchIndex);
    }
    this.#seq = delta.currentSeq;
  }

  /** The cards the narrowing keeps, in no particular order. */
  narrow(narrowing: SearchNarrowing): IndexedText[] {
    const out: IndexedText[] = [];
    for (const chunk of this.#chunks) chunk.narrow(narrowing, out);
    return out;
  }

  /** Every card, in no particular order. */
  all(): IndexedText[] {
    const out: IndexedText[] = [];
    for (const chunk of this.#chunks) {
      for (const [i, name] of chunk.names.entries()) out.push({ name, searchIndex: chunk.texts[i] ?? '' });
    }
    return out;
  }

  #set(name: string, text: string): void {
    const chunk = this.#chunkOf.get(name);
    if (chunk !== undefined) {
      const i = chunk.names.indexOf(name);
      const old = chunk.texts[i] ?? '';
      if (old === text) return;
      chunk.texts[i] = text;
      chunk.changed();
      this.#chars += 2 * (text.length - old.length);
      return;
    }
    let open = this.#chunks.at(-1);
    if (open === undefined || open.names.length >= CHUNK_CARDS) {
      open = new Chunk();
      this.#chunks.push(open);
    }
    open.names.push(name);
    open.texts.push(text);
    open.changed();
    this.#chunkOf.set(name, open);
    this.#chars += name.length + 2 * text.length;
  }

  #delete(name: string): void {
    const chunk = this.#chunkOf.get(name);
    if (chunk === undefined) return;
    this.#chunkOf.delete(name);
    const i = chunk.names.indexOf(name);
    this.#chars -= name.length + 2 * (chunk.texts[i] ?? '').length;
    // The chunk's last card takes the removed card's place.
    const lastName = chunk.names.pop() ?? '';
    const lastText = chunk.texts.pop() ?? '';
    if (i < chunk.names.length) {
      chunk.names[i] = lastName;
      chunk.texts[i] = lastText;
    }
    chunk.changed();
    if (chunk.names.length === 0) this.#chunks.splice(this.#chunks.indexOf(chunk), 1);
  }
}
