"""Criteria in plain words ("10 hours of pantry shifts within 90 days"), for the badge builder
to show a coordinator what the form or the YAML they wrote means, before anything is published.

Pure: the same BadgeClassIn/criterion models the API validates, rendered; badge ids of
`holds_badge` become names when the caller knows them.
"""

from collections.abc import Mapping

from schemas.badge_class import (
    ActivityCount,
    ActivityFilter,
    AllOf,
    AnyOf,
    AtLeastOf,
    BadgeClassIn,
    Criterion,
    DistinctCount,
    HoldsBadge,
    Streak,
    TotalHours,
)

_NOUNS = {None: ("activity", "activities"), "volunteer_shift": ("shift", "shifts")}
_NOUNS["workshop_attendance"] = ("workshop session", "workshop sessions")
_DISTINCT = {
    "session": ("session", "sessions"),
    "day": ("day", "days"),
    "site": ("site", "sites"),
    "program": ("program", "programs"),
    "series": ("series", "series"),
}


def number(value: float) -> str:
    """10 for 10.0, 2.5 for 2.5: hours as people write them."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _plural(n: float, nouns: tuple[str, str]) -> str:
    return f"{number(n)} {nouns[0] if n == 1 else nouns[1]}"


def _things(f: ActivityFilter, n: float, mass: bool = False) -> str:
    """What is counted: "pantry shifts", "shift", "activity" (hours of it, days of it)."""
    one, many = _NOUNS[f.kind]
    noun = one if n == 1 or (mass and f.kind is None) else many
    return f"{f.program} {noun}" if f.program else noun


def _where(f: ActivityFilter, series: bool = True) -> str:
    parts = []
    if f.role:
        parts.append(f"as {f.role}")
    if f.site:
        parts.append(f"at {f.site}")
    if f.series and series:
        parts.append(f"in the {f.series} series")
    return "".join(f" {p}" for p in parts)


def _window(days: int | None) -> str:
    return f" within {_plural(days, ('day', 'days'))}" if days else ""


def describe(criterion: Criterion, names: Mapping[str, str] | None = None) -> str:
    """One criterion (a tree) in plain words; nested groups in brackets."""
    names = names or {}
    if isinstance(criterion, TotalHours):
        hours = _plural(criterion.at_least, ("hour", "hours"))
        what = _things(criterion.filter, 2, mass=True)
        return f"{hours} of {what}{_where(criterion.filter)}{_window(criterion.within_days)}"
    if isinstance(criterion, ActivityCount):
        return (
            f"{number(criterion.at_least)} {_things(criterion.filter, criterion.at_least)}"
            f"{_where(criterion.filter)}{_window(criterion.within_days)}"
        )
    if isinstance(criterion, DistinctCount):
        return _distinct(criterion)
    if isinstance(criterion, Streak):
        return (
            f"{_things(criterion.filter, 2, mass=True)}{_where(criterion.filter)} in each of "
            f"{criterion.weeks} consecutive weeks{_window(criterion.within_days)}"
        )
    if isinstance(criterion, HoldsBadge):
        return f"holds the badge “{names.get(criterion.badge, criterion.badge)}”"
    parts = [_nested(c, names) for c in criterion.of]
    if len(parts) == 1:
        return parts[0]
    if isinstance(criterion, AllOf):
        return _listed(parts, "and") if len(parts) == 2 else "all of: " + _listed(parts, "and")
    if isinstance(criterion, AnyOf):
        return _listed(parts, "or") if len(parts) == 2 else "any of: " + _listed(parts, "or")
    assert isinstance(criterion, AtLeastOf)
    return f"at least {criterion.n} of: " + _listed(parts, "and")


def _nested(criterion: Criterion, names: Mapping[str, str]) -> str:
    text = describe(criterion, names)
    grouped = isinstance(criterion, AllOf | AnyOf | AtLeastOf) and len(criterion.of) > 1
    return f"({text})" if grouped else text


def _listed(parts: list[str], last: str) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} {last} {parts[-1]}"


def _distinct(c: DistinctCount) -> str:
    f, window = c.filter, _window(c.within_days)
    if c.of:
        named = ", ".join(c.of)
        within = f" of the {f.series} series" if f.series and c.field == "session" else ""
        rest = _where(f, series=c.field != "session")
        return f"{c.at_least} of these {_DISTINCT[c.field][1]}{within}: {named}{rest}{window}"
    one, many = _DISTINCT[c.field]
    counted = f"{c.at_least} {one}" if c.at_least == 1 else f"{c.at_least} different {many}"
    if c.field == "session":
        return (
            f"{counted}{_where(f)}{window}"
            if not f.program
            else f"{counted} of {f.program}{_where(f)}{window}"
        )
    what = _things(f, 2, mass=True)
    preposition = {"day": "on", "site": "at", "program": "in", "series": "in"}[c.field]
    return f"{what}{_where(f)} {preposition} {counted}{window}"


def describe_class(badge: BadgeClassIn, names: Mapping[str, str] | None = None) -> str:
    """The whole rule of a class: its criteria, how it repeats and when it expires."""
    text = describe(badge.criteria, names)
    text = text[0].upper() + text[1:]
    if badge.repeat == "calendar_year":
        text += "; earned again each calendar year it is met within that year"
    elif badge.repeat == "each_multiple":
        assert isinstance(badge.criteria, TotalHours | ActivityCount)
        c = badge.criteria
        if isinstance(c, TotalHours):
            step = _plural(c.at_least, ("hour", "hours"))
        else:
            step = f"{number(c.at_least)} {_things(c.filter, c.at_least)}"
        text += f"; earned again at every further {step}"
    if badge.expires_after_days:
        text += f"; expires {_plural(badge.expires_after_days, ('day', 'days'))} after it is awarded"
    return text + "."
