// Heuristics that turn non-IANA TZIDs real clients send into IANA names: Evolution/Lightning
// globally unique ids and Outlook display names. Pure string work; the caller supplies the zone
// database. Imports nothing of ours.

/**
 * Candidate IANA names inside a "globally unique" TZID (RFC 5545 §3.2.19 allows a leading "/"):
 * "/softwarestudio.org/Olson_20011030_5/America/New_York", "/mozilla.org/20070129_1/Europe/Berlin",
 * "/freeassociation.sourceforge.net/Tzfile/America/Argentina/Buenos_Aires". The last three, two and
 * one path segments are tried, longest first; names without a leading "/" give nothing.
 */
export function olsonSuffixes(tzid: string): string[] {
  if (!tzid.startsWith('/')) return [];
  const segments = tzid.split('/').filter((s) => s !== '');
  const out: string[] = [];
  for (let n = Math.min(3, segments.length - 1); n >= 1; n--) out.push(segments.slice(-n).join('/'));
  return out;
}

export interface ZoneDatabase {
  /** IANA name whose last segment is this city ("Amsterdam" → Europe/Amsterdam), or null. */
  readonly ianaForCity: (city: string) => string | null;
  /** IANA name for a Windows zone id ("Pacific Standard Time"), or null. */
  readonly ianaForWindowsName: (name: string) => string | null;
  /** The zone's UTC offsets in seconds (its standard and summer time); empty if unknown. */
  readonly offsetsOf: (iana: string) => readonly number[];
}

const DISPLAY_NAME = /^\(\s*(?:UTC|GMT)\s*(?:([+-])\s*(\d{1,2})(?:[:.]?(\d{2}))?)?\s*\)\s*(.*)$/i;

/**
 * An IANA name for an Outlook display name, or null. Outlook writes zones as "(UTC+01:00) Amsterdam,
 * Berlin, Bern, Rome, Stockholm, Vienna" (older versions "(GMT+01.00) ...", places separated by
 * commas or semicolons). Each place in turn is tried as a city of the database and, when it reads
 * "<Name> Time" or "<Name> Time (US & Canada)", as the Windows zone "<Name> Standard Time". A
 * candidate is taken only if one of its offsets equals the one in the parentheses ("(UTC)" is +00:00),
 * so a city that happens to share a name with a zone elsewhere is not picked. "(UTC) Coordinated
 * Universal Time" is UTC. Anything else (a bare "(GMT +01:00)", a place the database does not name
 * such as "Brasília") gives null: an offset alone does not say which daylight-saving rules apply.
 */
export function guessOutlookZone(tzid: string, db: ZoneDatabase): string | null {
  const match = DISPLAY_NAME.exec(tzid.trim());
  if (match === null) return null;
  const [, sign, hours, minutes, rest = ''] = match;
  const offset = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(hours) * 3600 + Number(minutes ?? 0) * 60);
  if (offset === 0 && /^coordinated universal time$/i.test(rest.trim())) return 'Etc/UTC';
  for (const place of rest.split(/[,;]/).map((p) => p.trim()).filter((p) => p !== '')) {
    const candidates = [db.ianaForCity(place)];
    const named = /^(.+?) Time(?: \(US (?:&|and) Canada\))?$/i.exec(place);
    if (named?.[1] !== undefined) candidates.push(db.ianaForWindowsName(`${named[1]} Standard Time`));
    for (const candidate of candidates) {
      if (candidate !== null && db.offsetsOf(candidate).includes(offset)) return candidate;
    }
  }
  return null;
}
