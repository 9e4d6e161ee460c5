"""Downloads every calendar of a user into a vdir (one folder per calendar, one .ics file per object,
a `displayname` file) with the python `caldav` library, the layout khal and todoman read.

Usage: khal_todoman_vdir.py BASE_URL USER PASSWORD DEST. Prints {"calendar-id": [file names]} as JSON."""
import json
import os
import sys
from urllib.parse import unquote

import caldav

BASE, USER, PASSWORD, DEST = sys.argv[1:5]

client = caldav.DAVClient(url=BASE, username=USER, password=PASSWORD)
written = {}
for calendar in client.principal().calendars():
    calendar_id = unquote(str(calendar.url).rstrip("/").rsplit("/", 1)[-1])
    folder = os.path.join(DEST, calendar_id)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "displayname"), "w", encoding="utf-8") as f:
        f.write(calendar.name or calendar_id)
    names = []
    # A calendar-query with only the VCALENDAR comp-filter: every object, whatever its component.
    for obj in calendar.search():
        name = unquote(str(obj.url).rsplit("/", 1)[-1])
        with open(os.path.join(folder, name), "w", encoding="utf-8", newline="") as f:
            f.write(obj.data)
        names.append(name)
    written[calendar_id] = sorted(names)
print(json.dumps(written, sort_keys=True))
