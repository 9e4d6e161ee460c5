// Chooses namespace prefixes for one serialized document: fixed ones for the DAV family, generated
// x0, x1, … for the rest, all declared once on the root. Imports only names.ts and escape.ts.
import { escapeAttribute } from './escape.ts';
import { NS } from './names.ts';

export const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';

// Clients (and people reading packet captures) expect these exact prefixes.
const FIXED_PREFIXES: ReadonlyMap<string, string> = new Map([
  [NS.DAV, 'd'],
  [NS.CALDAV, 'cal'],
  [NS.CARDDAV, 'card'],
  [NS.CS, 'cs'],
  [NS.ICAL, 'ical'],
]);

/**
 * Assigns prefixes lazily while a document is being written, so the writer needs a single pass:
 * the root's declarations are rendered last and spliced into a placeholder.
 */
export class PrefixAllocator {
  readonly #prefixOf = new Map<string, string>();
  readonly #taken = new Set<string>(['xml', 'xmlns']);
  readonly #pending: Array<readonly [namespace: string, prefix: string]> = [];
  readonly #defaultNamespaceInScope: boolean;
  #unqualifiedUsed = false;
  #generated = 0;

  /** `inScope` maps namespace → prefix for declarations an enclosing document already made. */
  constructor(inScope?: ReadonlyMap<string, string>) {
    let defaultInScope = false;
    for (const [namespace, prefix] of inScope ?? []) {
      if (prefix === '') {
        // We never put names in a default namespace, but unqualified names must then undo it.
        if (namespace !== '') defaultInScope = true;
        continue;
      }
      if (namespace === '' || namespace === XML_NAMESPACE || namespace === XMLNS_NAMESPACE) continue;
      if (prefix === 'xml' || prefix === 'xmlns') continue;
      if (!this.#prefixOf.has(namespace)) this.#prefixOf.set(namespace, prefix);
      this.#taken.add(prefix);
    }
    this.#defaultNamespaceInScope = defaultInScope;
  }

  /** The prefix to write for `namespace`; '' means write the name unqualified. */
  prefixFor(namespace: string): string {
    if (namespace === '') {
      this.#unqualifiedUsed = true;
      return '';
    }
    const known = this.#prefixOf.get(namespace);
    if (known !== undefined) return known;
    if (namespace === XML_NAMESPACE) return 'xml';
    if (namespace === XMLNS_NAMESPACE) throw new Error('the xmlns namespace cannot be used for names');

    let prefix = FIXED_PREFIXES.get(namespace);
    if (prefix === undefined || this.#taken.has(prefix)) {
      do prefix = `x${this.#generated++}`;
      while (this.#taken.has(prefix));
    }
    this.#taken.add(prefix);
    this.#prefixOf.set(namespace, prefix);
    this.#pending.push([namespace, prefix]);
    return prefix;
  }

  /** ` xmlns:p="…"` for every prefix assigned so far (plus `xmlns=""` if needed), for the root tag. */
  declarations(): string {
    const parts: string[] = [];
    if (this.#defaultNamespaceInScope && this.#unqualifiedUsed) parts.push(' xmlns=""');
    for (const [namespace, prefix] of this.#pending) parts.push(` xmlns:${prefix}="${escapeAttribute(namespace)}"`);
    return parts.join('');
  }
}
