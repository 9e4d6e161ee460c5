// Plain-text output helpers for listings: aligned tables for people, ISO timestamps for both
// people and scripts. Imports nothing of ours.

/** Milliseconds since the epoch as an ISO 8601 UTC timestamp to the second. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/u, 'Z');
}

/** Left-aligned columns separated by two spaces; empty cells show as '-'. */
export function table(headers: readonly string[], rows: readonly (readonly (string | null)[])[]): string {
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === null || cell === '' ? '-' : cell)))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => [...(row[column] ?? '')].length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell + ' '.repeat((widths[column] ?? 0) - [...cell].length)))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
