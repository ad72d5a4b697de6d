"""The badge builder's form, both ways: the fields a coordinator fills in become the body of
POST /v1/badge-classes, checked by the same model (schemas/badge_class.BadgeClassIn), whose
errors are put back next to the field they are about; and a published class fills the form in
again to be edited. Criteria the simple rows cannot show go to the advanced box (YAML).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, get_args

import yaml
from pydantic import ValidationError

from cairn.usecases.badge_builder import criteria_yaml
from schemas.badge_class import (
    ActivityCount,
    AllOf,
    AnyOf,
    AtLeastOf,
    BadgeClassIn,
    Criterion,
    DistinctCount,
    Glyph,
    HoldsBadge,
    Shape,
    Streak,
    TotalHours,
)

ROWS = 4  # requirement rows the form offers; more, or nesting, is the advanced box's
SHAPES = {
    "hours": "hours in total",
    "count": "number of shifts or sessions",
    "sessions": "N of these named sessions (or N different sessions)",
    "streak": "a streak of K weeks",
    "badges": "holds these badges",
}
FILTERS = ["kind", "program", "role", "site", "series"]
TEXT_FIELDS = ["id", "name", "description", "criteria_narrative"]
GLYPHS, IMAGE_SHAPES = list(get_args(Glyph)), list(get_args(Shape))  # the drawn image's choices


@dataclass
class Built:
    """What the form gave: the body when it is valid, else the errors by form field."""

    values: dict[str, Any]  # the form as filled in, to show it again
    body: BadgeClassIn | None = None
    errors: dict[str, str] = field(default_factory=dict)


def _get(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _number(text: str, whole: bool) -> int | float | str:
    """The number typed, or the text itself so that the model names what is wrong with it."""
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if whole and value.is_integer() else value


def form_values(form: Mapping[str, Any], badge_ids: list[str]) -> dict[str, Any]:
    """The submitted form as plain values (multi-selects as lists)."""
    values: dict[str, Any] = {name: _get(form, name) for name in [*TEXT_FIELDS, "tags", "repeat", "expires"]}
    values |= {name: _get(form, name) for name in ["combine", "combine_n", "criteria_yaml", "editing"]}
    values |= {name: _get(form, name) for name in ["glyph", "image_shape"]}
    values["use_yaml"] = bool(_get(form, "use_yaml"))
    getlist = getattr(form, "getlist", None)
    for i in range(ROWS):
        for part in ["shape", "amount", "within_days", "sessions", *FILTERS]:
            values[f"r{i}_{part}"] = _get(form, f"r{i}_{part}")
        chosen = getlist(f"r{i}_badges") if getlist else form.get(f"r{i}_badges", [])
        values[f"r{i}_badges"] = [b for b in chosen if b in badge_ids]
    return values


def _row(values: dict[str, Any], i: int) -> dict[str, Any]:
    """One requirement row as a criterion of the API's language (not yet validated)."""
    shape, amount = values[f"r{i}_shape"], values[f"r{i}_amount"]
    if shape == "badges":
        held = [{"kind": "holds_badge", "badge": b} for b in values[f"r{i}_badges"]]
        return held[0] if len(held) == 1 else {"kind": "all", "of": held}
    leaf: dict[str, Any] = {}
    chosen = {f: values[f"r{i}_{f}"] for f in FILTERS if values[f"r{i}_{f}"]}
    if chosen:
        leaf["filter"] = chosen
    if values[f"r{i}_within_days"]:
        leaf["within_days"] = _number(values[f"r{i}_within_days"], whole=True)
    if shape == "hours":
        return {"kind": "total_hours", "at_least": _number(amount, whole=False), **leaf}
    if shape == "count":
        return {"kind": "count", "at_least": _number(amount, whole=True), **leaf}
    if shape == "streak":
        return {"kind": "streak", "weeks": _number(amount, whole=True), **leaf}
    named = [s.strip() for s in values[f"r{i}_sessions"].split(",") if s.strip()]
    return {"kind": "distinct", "field": "session", "at_least": _number(amount, whole=True), **leaf} | (
        {"of": named} if named else {}
    )


def build(form: Mapping[str, Any], badge_ids: list[str]) -> Built:
    """The form's body, validated by BadgeClassIn, or what is wrong, next to each field."""
    values = form_values(form, badge_ids)
    built = Built(values)
    used = [i for i in range(ROWS) if values[f"r{i}_shape"] in SHAPES]
    body: dict[str, Any] = {name: values[name] for name in TEXT_FIELDS}
    body["tags"] = [t.strip() for t in values["tags"].split(",") if t.strip()]
    if values["repeat"]:
        body["repeat"] = values["repeat"]
    if values["expires"]:
        body["expires_after_days"] = _number(values["expires"], whole=True)
    if values["glyph"]:  # else the drawing picks one from the badge's words
        body["glyph"] = values["glyph"]
    if values["image_shape"]:
        body["shape"] = values["image_shape"]
    if values["use_yaml"]:
        try:
            body["criteria"] = yaml.safe_load(values["criteria_yaml"] or "") or {}
        except yaml.YAMLError as e:
            built.errors["criteria_yaml"] = f"not YAML: {e}"
    elif not used:
        built.errors["criteria"] = "add at least one requirement"
    elif len(used) == 1:
        body["criteria"] = _row(values, used[0])
    else:
        kind = {"all": "all", "any": "any", "at_least": "at_least_of"}.get(values["combine"], "all")
        body["criteria"] = {"kind": kind, "of": [_row(values, i) for i in used]}
        if kind == "at_least_of":
            body["criteria"]["n"] = _number(values["combine_n"], whole=True)
    if built.errors:
        return built
    try:
        built.body = BadgeClassIn.model_validate(body)
    except ValidationError as e:
        for error in e.errors():
            name = _field_of(tuple(error["loc"]), values["use_yaml"], used, str(error["msg"]))
            path = ".".join(str(p) for p in error["loc"][1:]) if name == "criteria_yaml" else ""
            built.errors.setdefault(name, f"{path}: {error['msg']}" if path else str(error["msg"]))
    return built


_LEAF_FIELD = {"at_least": "amount", "weeks": "amount", "within_days": "within_days", "of": "sessions"}
_LEAF_FIELD |= {"badge": "badges", "field": "shape", "kind": "shape"}


def _field_of(loc: tuple[Any, ...], use_yaml: bool, used: list[int], message: str) -> str:
    """The form field a BadgeClassIn error is about."""
    if not loc:
        return "repeat" if "repeat" in message else "criteria"
    if loc[0] != "criteria":
        return {"expires_after_days": "expires"}.get(str(loc[0]), str(loc[0]))
    if use_yaml:
        return "criteria_yaml"
    rest = list(loc[1:])
    row = used[0]
    if len(used) > 1:
        if len(rest) < 3 or not isinstance(rest[2], int):
            return "combine_n" if rest[-1:] == ["n"] else "criteria"
        row, rest = used[rest[2]], rest[3:]
    if "filter" in rest and rest.index("filter") + 1 < len(rest):
        return f"r{row}_{rest[rest.index('filter') + 1]}"
    named = [p for p in rest if isinstance(p, str) and p in _LEAF_FIELD]
    return f"r{row}_{_LEAF_FIELD[named[-1]]}" if named else f"r{row}_amount"


def values_of(badge: BadgeClassIn) -> dict[str, Any]:
    """A published class as form values, to edit it; criteria the rows cannot show are put in
    the advanced box, which is then the one used."""
    values: dict[str, Any] = {name: getattr(badge, name) for name in TEXT_FIELDS}
    values |= {
        "tags": ", ".join(badge.tags),
        "repeat": badge.repeat or "",
        "expires": str(badge.expires_after_days or ""),
        "criteria_yaml": criteria_yaml(badge),
        "editing": badge.id,
        "glyph": badge.glyph or "",
        "image_shape": badge.shape or "",
        "combine": "all",
        "combine_n": "",
    }
    for i in range(ROWS):
        values |= {f"r{i}_{p}": "" for p in ["shape", "amount", "within_days", "sessions", *FILTERS]}
        values[f"r{i}_badges"] = []
    rows = _rows_of(badge.criteria)
    values["use_yaml"] = rows is None
    if rows is not None:
        combine, n, leaves = rows
        values["combine"], values["combine_n"] = combine, str(n or "")
        for i, leaf in enumerate(leaves):
            values |= {f"r{i}_{k}": v for k, v in leaf.items()}
    return values


def _rows_of(criterion: Criterion) -> tuple[str, int | None, list[dict[str, Any]]] | None:
    if isinstance(criterion, AllOf | AnyOf | AtLeastOf):
        leaves = [_leaf_values(c) for c in criterion.of]
        if len(leaves) > ROWS or any(leaf is None for leaf in leaves):
            if isinstance(criterion, AllOf) and all(isinstance(c, HoldsBadge) for c in criterion.of):
                return "all", None, [{"shape": "badges", "badges": [c.badge for c in criterion.of]}]  # type: ignore[union-attr]
            return None
        combine = {AllOf: "all", AnyOf: "any", AtLeastOf: "at_least"}[type(criterion)]
        n = criterion.n if isinstance(criterion, AtLeastOf) else None
        return combine, n, [leaf for leaf in leaves if leaf is not None]
    leaf = _leaf_values(criterion)
    return None if leaf is None else ("all", None, [leaf])


def _leaf_values(c: Criterion) -> dict[str, Any] | None:
    if isinstance(c, HoldsBadge):
        return {"shape": "badges", "badges": [c.badge]}
    if isinstance(c, AllOf) and all(isinstance(x, HoldsBadge) for x in c.of):
        return {"shape": "badges", "badges": [x.badge for x in c.of]}  # type: ignore[union-attr]
    if isinstance(c, DistinctCount) and c.field != "session":
        return None
    if not isinstance(c, TotalHours | ActivityCount | DistinctCount | Streak):
        return None
    shape = {TotalHours: "hours", ActivityCount: "count", DistinctCount: "sessions", Streak: "streak"}[
        type(c)
    ]
    amount = c.weeks if isinstance(c, Streak) else c.at_least
    found = {"shape": shape, "amount": f"{amount:g}", "within_days": str(c.within_days or "")}
    found |= {f: getattr(c.filter, f) or "" for f in FILTERS}
    if isinstance(c, DistinctCount):
        found["sessions"] = ", ".join(c.of or [])
    return found
