// vCard content lines as text (RFC 6350 §3.2, RFC 2425 §5.8.1): line breaks, unfolding, folding and
// the name/value split of one logical line. Pure string logic: imports nothing.

/** One logical (unfolded) content line and the 1-based physical line it starts on. */
export interface ContentLine {
  readonly text: string;
  readonly lineNumber: number;
}

/** CRLF, the CR CR LF some Windows exporters write, and lone CR all become LF. */
export function normaliseLineBreaks(text: string): string {
  return text.replace(/\r*\n|\r/g, '\n');
}

/**
 * RFC 6350 §3.2: a line that starts with one space or HTAB continues the previous line; that one
 * whitespace character and the line break are removed. Blank lines are skipped (lenient: RFC 6350
 * allows none, but exporters put them between cards).
 */
export function unfoldLines(text: string): ContentLine[] {
  const physical = normaliseLineBreaks(text).split('\n');
  const result: { text: string; lineNumber: number }[] = [];
  physical.forEach((line, index) => {
    const last = result.at(-1);
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      last.text += line.slice(1);
    } else if (line.trim() !== '') {
      result.push({ text: line, lineNumber: index + 1 });
    }
  });
  return result;
}

/**
 * Index of the COLON that ends the name and parameters of `line`, skipping COLONs inside quoted
 * parameter values (RFC 6350 §3.3 `param-value = *SAFE-CHAR / DQUOTE *QSAFE-CHAR DQUOTE`); -1 if none.
 */
export function valueSeparator(line: string): number {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    else if (c === ':' && !quoted) return i;
  }
  return -1;
}

/** The group (lower case, if any) and name (upper case) of a content line: the text before `;`/`:`. */
export function lineName(line: string): { readonly group: string | undefined; readonly name: string } {
  const end = line.search(/[;:]/);
  const full = end === -1 ? line : line.slice(0, end);
  const dot = full.indexOf('.');
  if (dot === -1) return { group: undefined, name: full.toUpperCase() };
  return { group: full.slice(0, dot).toLowerCase(), name: full.slice(dot + 1).toUpperCase() };
}

const FOLD_OCTETS = 75;

function utf8Length(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  return codePoint < 0x10000 ? 3 : 4;
}

/**
 * RFC 6350 §3.2 / RFC 2425 §5.8.1: lines SHOULD NOT be longer than 75 octets, excluding the line
 * break. Continuation lines start with a space, which counts towards their 75 octets. Splits only
 * between code points, never inside a UTF-8 sequence or a surrogate pair.
 */
export function foldLine(line: string): string {
  let out = '';
  let octets = 0;
  for (const char of line) {
    const size = utf8Length(char.codePointAt(0) ?? 0);
    if (octets + size > FOLD_OCTETS) {
      out += '\r\n ';
      octets = 1;
    }
    out += char;
    octets += size;
  }
  return out;
}

/** Logical lines → vCard text: each folded, each ended by CRLF (RFC 6350 §3.2). */
export function joinLines(lines: readonly string[]): string {
  return lines.map((line) => `${foldLine(line)}\r\n`).join('');
}
