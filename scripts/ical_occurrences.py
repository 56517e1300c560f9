"""Reads an iCalendar file with the `icalendar` package from PyPI (an independent parser, for
the round-trip test of Préau's calendar feeds) and prints one JSON line per occurrence:

    {"uid": ..., "recurrence_id": ... or null, "start": "YYYY-MM-DDTHH:MM:SSZ", "end": ...,
     "status": "CONFIRMED" | "CANCELLED" | "", "sequence": n, "summary": ...}

Times are converted to UTC. A TZID is resolved through the file's own VTIMEZONE block when it
has one (and the result is checked against the system's zoneinfo database of the same name,
when there is one), else through zoneinfo. Recurrence rules (RRULE, RDATE, EXDATE) are expanded
with dateutil, and RECURRENCE-ID overrides replace the occurrence they name.

Usage: python3 scripts/ical_occurrences.py FILE.ics
Exit codes: 0 on success, 2 when the file cannot be read, 3 when `icalendar` is missing.
"""

import datetime as dt
import json
import sys

try:
    import icalendar
except ImportError:
    print(
        "le paquet Python « icalendar » manque : lancez bash scripts/test.sh, qui l'installe "
        "(ou pip install icalendar)",
        file=sys.stderr,
    )
    sys.exit(3)

from dateutil import rrule as dateutil_rrule

try:
    from zoneinfo import ZoneInfo
except ImportError:  # pragma: no cover - Python < 3.9
    ZoneInfo = None

UTC = dt.timezone.utc


def zoneinfo_zone(name):
    if ZoneInfo is None:
        return None
    try:
        return ZoneInfo(name)
    except Exception:
        return None


def file_zones(calendar):
    """TZID -> tzinfo built from the file's VTIMEZONE blocks (not looked up by name)."""
    zones = {}
    for block in calendar.walk("VTIMEZONE"):
        tzid = str(block.get("TZID"))
        zones[tzid] = block.to_tz(lookup_tzid=False)
    return zones


def to_utc(prop, zones, what):
    """The UTC instant of a DTSTART/DTEND/RECURRENCE-ID/EXDATE value, or a date for all-day."""
    value = prop.dt if hasattr(prop, "dt") else prop
    if isinstance(value, dt.datetime):
        tzid = prop.params.get("TZID") if hasattr(prop, "params") else None
        if tzid is not None:
            wall = value.replace(tzinfo=None)
            zone = zones.get(str(tzid))
            named = zoneinfo_zone(str(tzid))
            if zone is None and named is None:
                raise ValueError(f"{what}: TZID {tzid} inconnu (ni VTIMEZONE ni zoneinfo)")
            if zone is not None:
                instant = localize(wall, zone)
                if named is not None and localize(wall, named) != instant:
                    raise ValueError(
                        f"{what}: le VTIMEZONE {tzid} ne donne pas la même heure que zoneinfo "
                        f"pour {wall.isoformat()}"
                    )
                return instant
            return localize(wall, named)
        if value.tzinfo is None:
            raise ValueError(f"{what}: heure flottante {value.isoformat()} (ni Z ni TZID)")
        return value.astimezone(UTC)
    return value


def localize(wall, zone):
    if hasattr(zone, "localize"):
        return zone.localize(wall).astimezone(UTC)
    return wall.replace(tzinfo=zone).astimezone(UTC)


def stamp(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def prop_list(event, name):
    found = event.get(name)
    if found is None:
        return []
    return found if isinstance(found, list) else [found]


def expand(event, zones, start, duration):
    """Every start of a (possibly recurring) event."""
    starts = [start]
    rules = prop_list(event, "RRULE")
    if rules:
        if not isinstance(start, dt.datetime):
            raise ValueError("RRULE sur un événement d'une journée : non pris en charge ici")
        starts = []
        for rule in rules:
            text = rule.to_ical().decode()
            # A rule anchored in a zone repeats on its wall clock (RFC 5545), across changes
            # of clocks; one anchored in UTC repeats in UTC.
            tzid = event["DTSTART"].params.get("TZID")
            zone = zones.get(str(tzid)) if tzid else None
            if zone is None and tzid:
                zone = zoneinfo_zone(str(tzid))
            if zone is not None:
                wall = start.astimezone(zone).replace(tzinfo=None)
                for local in dateutil_rrule.rrulestr(text, dtstart=wall, ignoretz=True):
                    starts.append(localize(local, zone))
            else:
                starts.extend(dateutil_rrule.rrulestr(text, dtstart=start))
    for rdate in prop_list(event, "RDATE"):
        for value in rdate.dts:
            starts.append(to_utc(value_with_params(value, rdate), zones, "RDATE"))
    excluded = set()
    for exdate in prop_list(event, "EXDATE"):
        for value in exdate.dts:
            excluded.add(to_utc(value_with_params(value, exdate), zones, "EXDATE"))
    return [(s, s + duration) for s in sorted(set(starts)) if s not in excluded]


def value_with_params(value, container):
    if "TZID" in container.params and "TZID" not in value.params:
        value.params["TZID"] = container.params["TZID"]
    return value


def main(path):
    with open(path, "rb") as handle:
        calendar = icalendar.Calendar.from_ical(handle.read())
    zones = file_zones(calendar)
    masters = {}
    overrides = {}
    for event in calendar.walk("VEVENT"):
        uid = str(event.get("UID", ""))
        if "RECURRENCE-ID" in event:
            recurrence = to_utc(event["RECURRENCE-ID"], zones, f"{uid} RECURRENCE-ID")
            overrides[(uid, recurrence)] = event
        else:
            if uid in masters:
                raise ValueError(f"UID {uid} présent deux fois sans RECURRENCE-ID")
            masters[uid] = event

    rows = []
    for uid, event in masters.items():
        start = to_utc(event["DTSTART"], zones, f"{uid} DTSTART")
        if "DTEND" in event:
            end = to_utc(event["DTEND"], zones, f"{uid} DTEND")
        elif "DURATION" in event:
            end = start + event["DURATION"].dt
        else:
            end = start
        recurring = bool(prop_list(event, "RRULE") or prop_list(event, "RDATE"))
        for occurrence_start, occurrence_end in expand(event, zones, start, end - start):
            recurrence_id = occurrence_start if recurring else None
            source = overrides.pop((uid, occurrence_start), None) if recurring else None
            if source is not None:
                rows.append(row(uid, recurrence_id, source, zones))
            else:
                rows.append(emit(uid, recurrence_id, event, occurrence_start, occurrence_end))
    for (uid, recurrence), event in overrides.items():
        rows.append(row(uid, recurrence, event, zones))

    for line in sorted(rows, key=lambda r: (r["start"], r["uid"])):
        print(json.dumps(line, ensure_ascii=False))


def row(uid, recurrence_id, event, zones):
    start = to_utc(event["DTSTART"], zones, f"{uid} DTSTART")
    if "DTEND" in event:
        end = to_utc(event["DTEND"], zones, f"{uid} DTEND")
    elif "DURATION" in event:
        end = start + event["DURATION"].dt
    else:
        end = start
    return emit(uid, recurrence_id, event, start, end)


def emit(uid, recurrence_id, event, start, end):
    return {
        "uid": uid,
        "recurrence_id": stamp(recurrence_id) if recurrence_id is not None else None,
        "start": stamp(start),
        "end": stamp(end),
        "status": str(event.get("STATUS", "")).upper(),
        "sequence": int(event.get("SEQUENCE", 0)),
        "summary": str(event.get("SUMMARY", "")),
    }


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage : python3 scripts/ical_occurrences.py FICHIER.ics", file=sys.stderr)
        sys.exit(2)
    try:
        main(sys.argv[1])
    except (OSError, ValueError) as error:
        print(f"fichier illisible : {error}", file=sys.stderr)
        sys.exit(2)
