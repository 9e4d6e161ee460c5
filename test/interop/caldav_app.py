"""The python `caldav` library (Debian python3-caldav 0.11) used as an application would: discovery,
calendar creation, events and tasks, date searches with and without server-side expand, todo
searches, an ETag conflict, a duplicate UID, a refused component and deletion.

Usage: caldav_app.py BASE_URL USER PASSWORD. Prints one JSON object per line, {"step": ..., ...};
a step that raised prints {"step": ..., "error": ...} and the script carries on with the next."""
import json
import sys
import traceback
from datetime import datetime, timezone

import caldav
import icalendar
import requests
from caldav.lib import error

BASE, USER, PASSWORD = sys.argv[1:4]
UTC = timezone.utc
PRODID = "-//Almanac interop//caldav_app//EN"


def emit(step, **fields):
    print(json.dumps({"step": step, **fields}, sort_keys=True), flush=True)


def step(name):
    """Runs the decorated function at once and prints what it returns (or the error it raised)."""

    def run(fn):
        try:
            emit(name, **(fn() or {}))
        except Exception as exc:  # noqa: BLE001 - every failure is reported, the next step still runs
            emit(name, error=f"{type(exc).__name__}: {exc}", trace=traceback.format_exc(limit=4))
        return fn

    return run


def raw(method, url, body=None, headers=None):
    """A request outside the library (it raises on 403 and never sends If-Match), with Basic auth."""
    response = requests.request(
        method, str(url), data=body.encode() if isinstance(body, str) else body,
        headers=headers or {}, auth=(USER, PASSWORD), allow_redirects=False, timeout=20,
    )
    return response


def when(value):
    """An iCalendar date or date-time as a short, comparable string (UTC date-times end in Z)."""
    if value is None:
        return None
    value = value.dt if hasattr(value, "dt") else value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.strftime("%Y%m%dT%H%M%S")
        return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return value.strftime("%Y%m%d")


def components(obj, name="VEVENT"):
    return [c for c in icalendar.Calendar.from_ical(obj.data).walk(name)]


def summaries(objects, name="VEVENT"):
    """The summary of each object's master (or only) component, sorted."""
    out = []
    for obj in objects:
        comps = components(obj, name)
        master = next((c for c in comps if c.get("RECURRENCE-ID") is None), comps[0] if comps else None)
        out.append(str(master.get("SUMMARY")) if master is not None else None)
    return sorted(out)


def instances(objects):
    """Every VEVENT returned, as 'summary|recurrence-id|dtstart', sorted."""
    out = []
    for obj in objects:
        for c in components(obj):
            out.append(f"{c.get('SUMMARY')}|{when(c.get('RECURRENCE-ID')) or '-'}|{when(c.get('DTSTART'))}")
    return sorted(out)


def d(y, m, day, h=0, mi=0):
    return datetime(y, m, day, h, mi, tzinfo=UTC)


client = caldav.DAVClient(url=BASE, username=USER, password=PASSWORD)
state = {}


@step("discovery_root")
def _():
    principal = client.principal()
    state["principal"] = principal
    return {
        "principal": str(principal.url),
        "home": str(principal.calendar_home_set.url),
        "calendars": sorted([{"url": str(c.url), "name": c.name} for c in principal.calendars()], key=lambda c: c["url"]),
    }


@step("discovery_well_known")
def _():
    wk = caldav.DAVClient(url=BASE + ".well-known/caldav", username=USER, password=PASSWORD)
    principal = wk.principal()
    return {
        "principal": str(principal.url),
        "calendars": sorted(str(c.url) for c in principal.calendars()),
    }


@step("make_calendars")
def _():
    principal = state["principal"]
    work = principal.make_calendar(name="Work events", cal_id="work", supported_calendar_component_set=["VEVENT"])
    tasks = principal.make_calendar(name="Tasks", cal_id="tasks", supported_calendar_component_set=["VTODO"])
    state["work"], state["tasks"] = work, tasks
    listed = principal.calendars()
    return {
        "work": {"url": str(work.url), "name": work.get_display_name(), "components": sorted(work.get_supported_components())},
        "tasks": {"url": str(tasks.url), "name": tasks.get_display_name(), "components": sorted(tasks.get_supported_components())},
        "listed": sorted([{"url": str(c.url), "name": c.name} for c in listed], key=lambda c: c["url"]),
    }


WEEKLY = f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:{PRODID}
BEGIN:VEVENT
UID:weekly-1
DTSTAMP:20300101T000000Z
DTSTART:20300304T090000Z
DTEND:20300304T093000Z
RRULE:FREQ=WEEKLY;COUNT=6
EXDATE:20300318T090000Z
SUMMARY:Weekly sync
END:VEVENT
BEGIN:VEVENT
UID:weekly-1
DTSTAMP:20300101T000000Z
RECURRENCE-ID:20300325T090000Z
DTSTART:20300327T140000Z
DTEND:20300327T143000Z
SUMMARY:Weekly sync (moved)
END:VEVENT
END:VCALENDAR
"""

ALLDAY = f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:{PRODID}
BEGIN:VEVENT
UID:allday-1
DTSTAMP:20300101T000000Z
DTSTART;VALUE=DATE:20300306
DTEND;VALUE=DATE:20300307
SUMMARY:Holiday
END:VEVENT
END:VCALENDAR
"""

BERLIN = f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:{PRODID}
BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
UID:berlin-1
DTSTAMP:20300101T000000Z
DTSTART;TZID=Europe/Berlin:20300326T090000
DTEND;TZID=Europe/Berlin:20300326T100000
RRULE:FREQ=WEEKLY;COUNT=2
SUMMARY:Berlin standup
END:VEVENT
END:VCALENDAR
"""


@step("add_events")
def _():
    work = state["work"]
    # The way an app creates a simple event: properties as keyword arguments, the library picks the UID.
    plain = work.save_event(dtstart=d(2030, 3, 4, 10), dtend=d(2030, 3, 4, 11), summary="Plain meeting")
    state["plain"] = plain
    saved = {"plain": plain}
    for key, ics in (("weekly", WEEKLY), ("allday", ALLDAY), ("berlin", BERLIN)):
        saved[key] = work.save_event(ics)
    state.update(saved)
    return {
        "urls": {k: str(v.url) for k, v in saved.items()},
        "plain_uid": plain.id,
        "events": summaries(work.events()),
    }


@step("add_todos")
def _():
    tasks = state["tasks"]
    report = tasks.save_todo(f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:{PRODID}
BEGIN:VTODO
UID:todo-report
DTSTAMP:20300101T000000Z
DUE:20300310T170000Z
STATUS:NEEDS-ACTION
PRIORITY:1
SUMMARY:Write report
END:VTODO
END:VCALENDAR
""")
    taxes = tasks.save_todo(f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:{PRODID}
BEGIN:VTODO
UID:todo-taxes
DTSTAMP:20300101T000000Z
DUE:20300301T170000Z
STATUS:COMPLETED
COMPLETED:20300228T120000Z
PERCENT-COMPLETE:100
SUMMARY:File taxes
END:VTODO
END:VCALENDAR
""")
    milk = tasks.save_todo(summary="Buy milk", due=d(2030, 3, 12, 9))
    state.update(todo_report=report, todo_taxes=taxes, todo_milk=milk)
    return {"urls": {"report": str(report.url), "taxes": str(taxes.url), "milk": str(milk.url)}}


RANGES = {
    "mar04": (d(2030, 3, 4), d(2030, 3, 5)),
    "override_only": (d(2030, 3, 27), d(2030, 3, 28)),
    "override_old_slot": (d(2030, 3, 25), d(2030, 3, 26)),
    "exdate_only": (d(2030, 3, 18), d(2030, 3, 19)),
    "after_count": (d(2030, 4, 14), d(2030, 4, 16)),
    "allday": (d(2030, 3, 6), d(2030, 3, 6, 12)),
    "allday_after": (d(2030, 3, 7), d(2030, 3, 8)),
    # Europe/Berlin 09:00 is 08:00Z before the DST change of 2030-03-31 and 07:00Z after it.
    "berlin_cet": (d(2030, 3, 26, 7, 45), d(2030, 3, 26, 8, 15)),
    "berlin": (d(2030, 4, 2, 6, 30), d(2030, 4, 2, 7, 15)),
    "berlin_if_utc": (d(2030, 4, 2, 8, 30), d(2030, 4, 2, 9, 30)),
    "march": (d(2030, 3, 1), d(2030, 4, 1)),
}

for range_name, (start, end) in RANGES.items():

    @step(f"search:{range_name}")
    def _(start=start, end=end):
        work = state["work"]
        # Without expand: whole objects whose recurrence set meets the range.
        plain = work.search(event=True, start=start, end=end)
        legacy = work.date_search(start, end, expand=False)
        # With expand, as an app asks for it (the library only expands itself if the server did not).
        expanded = work.search(event=True, start=start, end=end, expand=True)
        # The same expand query, but the server's answer as it came (no client-side expansion).
        xml, comp_class = work.build_search_xml_query(event=True, start=start, end=end, expand=True)
        _response, server = work._request_report_build_resultlist(xml, comp_class)
        server_data = [o.data for o in server]
        return {
            "plain": summaries(plain),
            "date_search": summaries(legacy),
            "expanded": instances(expanded),
            "server_expanded": instances(server),
            "server_expanded_has_rules": any(
                k in c for o in server for c in components(o) for k in ("RRULE", "EXDATE", "RDATE")
            ),
            "server_expanded_has_vtimezone": any("BEGIN:VTIMEZONE" in x for x in server_data),
        }


@step("todos")
def _():
    tasks = state["tasks"]
    return {
        "pending": [str(t.icalendar_component.get("SUMMARY")) for t in tasks.todos()],
        "all": summaries(tasks.todos(include_completed=True), "VTODO"),
        "in_range": summaries(tasks.search(todo=True, include_completed=True, start=d(2030, 3, 9), end=d(2030, 3, 11)), "VTODO"),
        "pending_in_range": summaries(tasks.search(todo=True, start=d(2030, 3, 1), end=d(2030, 3, 31)), "VTODO"),
        "events_in_tasks": summaries(tasks.events()),
    }


@step("complete_todo")
def _():
    tasks = state["tasks"]
    milk = tasks.todo_by_uid(state["todo_milk"].id)
    milk.complete(completion_timestamp=d(2030, 3, 2, 8))
    reloaded = tasks.todo_by_uid(state["todo_milk"].id).icalendar_component
    return {
        "status": str(reloaded.get("STATUS")),
        "completed": when(reloaded.get("COMPLETED")),
        "pending": [str(t.icalendar_component.get("SUMMARY")) for t in tasks.todos()],
    }


@step("conflict_412")
def _():
    url = state["allday"].url
    # Two clients load the same event; each remembers the ETag it saw.
    first = raw("GET", url)
    second = raw("GET", url)
    etag_a, etag_b = first.headers.get("ETag"), second.headers.get("ETag")
    body_a = first.text.replace("SUMMARY:Holiday", "SUMMARY:Holiday (edited by A)")
    body_b = second.text.replace("SUMMARY:Holiday", "SUMMARY:Holiday (edited by B)")
    put_a = raw("PUT", url, body_a, {"Content-Type": "text/calendar; charset=utf-8", "If-Match": etag_a})
    put_b = raw("PUT", url, body_b, {"Content-Type": "text/calendar; charset=utf-8", "If-Match": etag_b})
    # Creating "new" over an existing resource with If-None-Match: * is refused the same way.
    create_over = raw("PUT", url, body_b, {"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"})
    final = raw("GET", url)
    # And through the library: the object loaded by the second client, saved after the first won.
    loaded = state["work"].event_by_url(url)
    return {
        "etags_equal": etag_a == etag_b and etag_a is not None,
        "put_a": put_a.status_code,
        "put_a_etag_changed": put_a.headers.get("ETag") not in (None, etag_a),
        "put_b": put_b.status_code,
        "create_over": create_over.status_code,
        "final_summary": str(icalendar.Calendar.from_ical(final.text).walk("VEVENT")[0].get("SUMMARY")),
        "final_etag_is_a": final.headers.get("ETag") == put_a.headers.get("ETag"),
        "library_etag": loaded.props.get(caldav.elements.dav.GetEtag.tag) == final.headers.get("ETag"),
    }


@step("duplicate_uid")
def _():
    work = state["work"]
    plain = state["plain"]
    other = work.url.join("another-name.ics")
    response = raw("PUT", other, plain.data, {"Content-Type": "text/calendar; charset=utf-8"})
    library_error = None
    try:
        caldav.Event(client, url=work.url.join("yet-another-name.ics"), data=plain.data, parent=work).save()
    except error.DAVError as exc:
        library_error = type(exc).__name__
    return {
        "status": response.status_code,
        "body": response.text,
        "existing_href": plain.url.path,
        "library_error": library_error,
        "other_exists": raw("GET", other).status_code,
        "events": summaries(work.events()),
    }


@step("unsupported_component")
def _():
    work, tasks = state["work"], state["tasks"]
    todo = f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:{PRODID}
BEGIN:VTODO
UID:todo-in-work
DTSTAMP:20300101T000000Z
SUMMARY:Not here
END:VTODO
END:VCALENDAR
"""
    response = raw("PUT", work.url.join("todo-in-work.ics"), todo, {"Content-Type": "text/calendar; charset=utf-8"})
    library_error = None
    try:
        work.save_todo(todo.replace("todo-in-work", "todo-in-work-2"))
    except error.DAVError as exc:
        library_error = type(exc).__name__
    event_in_tasks = raw("PUT", tasks.url.join("event-in-tasks.ics"), ALLDAY.replace("allday-1", "allday-tasks"),
                         {"Content-Type": "text/calendar; charset=utf-8"})
    return {
        "status": response.status_code,
        "body": response.text,
        "library_error": library_error,
        "event_in_tasks_status": event_in_tasks.status_code,
        "event_in_tasks_body": event_in_tasks.text,
        "work_todos": summaries(work.todos(include_completed=True), "VTODO"),
    }


@step("delete")
def _():
    work = state["work"]
    for key in ("plain", "weekly"):
        state[key].delete()
    not_found = []
    for uid in (state["plain"].id, "weekly-1"):
        try:
            work.event_by_uid(uid)
        except error.NotFoundError:
            not_found.append(uid == "weekly-1" and "weekly" or "plain")
    start, end = RANGES["march"]
    return {
        "get_status": raw("GET", state["weekly"].url).status_code,
        "not_found": sorted(not_found),
        "march": summaries(work.search(event=True, start=start, end=end)),
        "march_expanded": instances(work.search(event=True, start=start, end=end, expand=True)),
        "events": summaries(work.events()),
    }
