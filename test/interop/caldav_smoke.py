"""Smoke test with the python `caldav` library (Debian python3-caldav): discover the principal from
the server's root URL and list the calendars, as a script or a client built on it would."""
import json
import sys

import caldav

url, user, password = sys.argv[1:4]
client = caldav.DAVClient(url=url, username=user, password=password)
principal = client.principal()
calendars = principal.calendars()
print(json.dumps({
    "principal": str(principal.url),
    "calendars": [{"url": str(c.url), "name": c.name} for c in calendars],
}))
