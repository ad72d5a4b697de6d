"""`cairn criteria check`: what a history of events earns under badge classes, without Kafka.

The input is what an organisation would POST (event bodies with emails), so a coordinator can
try a badge definition against last year's rota export before publishing it.
"""

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from cairn.domain.criteria import awards_for_history
from cairn.domain.identity import normalise_email, recipient_key
from schemas.activity import ActivityData, ActivityIn, activity_from_api, person_of
from schemas.badge_class import BadgeClass, BadgeClassIn

LOCAL_ORG = "local"
_event = TypeAdapter(ActivityIn)


class InputError(ValueError):
    """Bad input, with where it is (file, line, field) in the message."""


def _describe(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: {e['msg']}" for e in error.errors())


def load_badge_classes(text: str, timezone: str = "UTC") -> list[BadgeClass]:
    """One badge class (a mapping) or several (a list), as YAML or JSON; `timezone` is the
    organisation's, which calendar criteria count in."""
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise InputError(f"badge file is not YAML or JSON: {e}") from e
    items = loaded if isinstance(loaded, list) else [loaded]
    classes = []
    for n, item in enumerate(items, start=1):
        try:
            body = BadgeClassIn.model_validate(item)
        except ValidationError as e:
            raise InputError(f"badge class {n}: {_describe(e)}") from e
        try:
            classes.append(BadgeClass(org_id=LOCAL_ORG, version=1, timezone=timezone, **body.model_dump()))
        except ValidationError as e:
            raise InputError(f"--timezone: {_describe(e)}") from e
    return classes


def awards_from_lines(lines: Iterable[str], classes: list[BadgeClass]) -> list[dict[str, Any]]:
    """One dict per award, with the recipient's email beside the award's fields."""
    secret = b"cairn criteria check"
    histories: dict[str, list[tuple[str, ActivityData]]] = defaultdict(list)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            body = _event.validate_json(line)
        except ValidationError as e:
            raise InputError(f"line {number}: {_describe(e)}") from e
        email = normalise_email(person_of(body).email)
        histories[email].append((body.id, activity_from_api(body, recipient_key(secret, email))))
    results = []
    for email, events in histories.items():
        key = recipient_key(secret, email)
        for award in awards_for_history(events, classes, key):
            results.append({"recipient": email, **json.loads(award.model_dump_json())})
    return results
