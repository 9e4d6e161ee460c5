// Realistic iCalendar and vCard bodies for the writes whose trace payloads are only illustrative
// (RECON in the README): CRLF lines, the PRODID and shapes each client really produces.
export interface EventOptions {
  readonly uid: string;
  readonly prodid: string;
  readonly summary: string;
  /** UTC date-times as yyyymmddThhmmssZ. */
  readonly start: string;
  readonly end: string;
  readonly sequence?: number;
  readonly extra?: readonly string[];
}

function crlf(lines: readonly string[]): string {
  return `${lines.join('\r\n')}\r\n`;
}

export function event(options: EventOptions): string {
  return crlf([
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    `PRODID:${options.prodid}`,
    'CALSCALE:GREGORIAN',
    'BEGIN:VEVENT',
    `UID:${options.uid}`,
    'DTSTAMP:20250301T120000Z',
    'CREATED:20250301T120000Z',
    'LAST-MODIFIED:20250301T120000Z',
    `DTSTART:${options.start}`,
    `DTEND:${options.end}`,
    `SEQUENCE:${options.sequence ?? 0}`,
    `SUMMARY:${options.summary}`,
    ...(options.extra ?? []),
    'BEGIN:VALARM',
    'ACTION:DISPLAY',
    'DESCRIPTION:Reminder',
    'TRIGGER:-PT15M',
    'END:VALARM',
    'END:VEVENT',
    'END:VCALENDAR',
  ]);
}

/** A weekly event in Europe/Vienna local time with its VTIMEZONE, the way DAVx5 and Apple write local times. */
export function viennaWeekly(options: Omit<EventOptions, 'start' | 'end'> & { readonly localStart: string; readonly localEnd: string }): string {
  return crlf([
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    `PRODID:${options.prodid}`,
    'CALSCALE:GREGORIAN',
    'BEGIN:VTIMEZONE',
    'TZID:Europe/Vienna',
    'BEGIN:STANDARD',
    'TZNAME:CET',
    'TZOFFSETFROM:+0200',
    'TZOFFSETTO:+0100',
    'DTSTART:19961027T030000',
    'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
    'END:STANDARD',
    'BEGIN:DAYLIGHT',
    'TZNAME:CEST',
    'TZOFFSETFROM:+0100',
    'TZOFFSETTO:+0200',
    'DTSTART:19810329T020000',
    'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
    'END:DAYLIGHT',
    'END:VTIMEZONE',
    'BEGIN:VEVENT',
    `UID:${options.uid}`,
    'DTSTAMP:20250301T120000Z',
    `DTSTART;TZID=Europe/Vienna:${options.localStart}`,
    `DTEND;TZID=Europe/Vienna:${options.localEnd}`,
    `SEQUENCE:${options.sequence ?? 0}`,
    `SUMMARY:${options.summary}`,
    'RRULE:FREQ=WEEKLY;COUNT=10',
    'END:VEVENT',
    'END:VCALENDAR',
  ]);
}

export function todo(options: { readonly uid: string; readonly prodid: string; readonly summary: string; readonly due: string }): string {
  return crlf([
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    `PRODID:${options.prodid}`,
    'BEGIN:VTODO',
    `UID:${options.uid}`,
    'DTSTAMP:20250301T120000Z',
    'CREATED:20250301T120000Z',
    `DUE:${options.due}`,
    'STATUS:NEEDS-ACTION',
    `SUMMARY:${options.summary}`,
    'END:VTODO',
    'END:VCALENDAR',
  ]);
}

export function vcard3(options: { readonly uid: string; readonly prodid: string; readonly given: string; readonly family: string; readonly email: string }): string {
  return crlf([
    'BEGIN:VCARD',
    'VERSION:3.0',
    `PRODID:${options.prodid}`,
    `UID:${options.uid}`,
    `FN:${options.given} ${options.family}`,
    `N:${options.family};${options.given};;;`,
    `EMAIL;TYPE=INTERNET,HOME:${options.email}`,
    'TEL;TYPE=CELL:+43 660 1234567',
    'REV:20250301T120000Z',
    'END:VCARD',
  ]);
}

export function vcard4(options: { readonly uid: string; readonly prodid: string; readonly given: string; readonly family: string; readonly email: string }): string {
  return crlf([
    'BEGIN:VCARD',
    'VERSION:4.0',
    `PRODID:${options.prodid}`,
    `UID:${options.uid}`,
    `FN:${options.given} ${options.family}`,
    `N:${options.family};${options.given};;;`,
    `EMAIL;TYPE=home:${options.email}`,
    'TEL;VALUE=uri;TYPE=cell:tel:+43-660-1234567',
    'REV:20250301T120000Z',
    'END:VCARD',
  ]);
}
