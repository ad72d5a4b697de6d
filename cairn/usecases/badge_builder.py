"""The badge builder's use cases: a dry run of a class before it is published ("who would
receive this now"), what an edit changes, each version with who holds it, and publishing.

The dry run is the aggregator's own engine (`settle`) over each person's activity as the store's
activity log holds it, with the badges they already hold from the credentials issued; it
publishes nothing and stores nothing, so a preview never awards.
"""

import difflib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import yaml

from cairn.domain.criteria import Progress, record_activity, settle
from cairn.domain.criteria.wording import describe_class
from cairn.domain.records import Org
from cairn.ports import ActivityLogStore, CredentialStore, EarnerStore, OrganisationStore, Publisher
from schemas.awards import Evidence
from schemas.badge_class import BadgeClass, BadgeClassIn


class BuilderStore(OrganisationStore, CredentialStore, EarnerStore, ActivityLogStore):
    """What the builder reads: classes, credentials (who holds what), contacts, activity."""


@dataclass(frozen=True)
class Qualifier:
    recipient_key: str
    name: str | None
    email: str
    awards: int  # occurrences the class would award now (more than one for repeating classes)
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def shown(self) -> str:
        return self.name or self.email


@dataclass(frozen=True)
class Preview:
    badge: BadgeClass  # the class as it would be published: the next version
    would_receive: list[Qualifier]  # sorted by name, then email
    holders: int  # people holding a credential of this class already (earlier versions)
    people: int  # everyone whose history was looked at


def as_published(org: Org, body: BadgeClassIn, version: int) -> BadgeClass:
    return BadgeClass(org_id=org.id, version=version, timezone=org.timezone, **body.model_dump())


async def preview(store: BuilderStore, org: Org, body: BadgeClassIn) -> Preview:
    """Who would receive the class if it were published now, by the engine over held activity."""
    latest = await store.badge_class(org.id, body.id)
    badge = as_published(org, body, (latest.version + 1) if latest else 1)
    held: dict[str, dict[str, list[datetime]]] = defaultdict(lambda: defaultdict(list))
    for credential in await store.credentials(org.id):
        held[credential.recipient_key][credential.badge_class_id].append(credential.issued_at)
    histories = await store.activity_histories(org.id)
    contacts = {p.recipient_key: p for p in await store.recipients(org.id)}
    receiving = []
    for key in sorted(set(histories) | set(held)):
        contact = contacts.get(key)
        if contact is None:  # erased: no one to award
            continue
        events = histories.get(key, [])
        progress = Progress()
        for event_id, data in events:  # keep them all: no compaction in a dry run
            progress = record_activity(progress, event_id, data, keep=len(events) + 1) or progress
        progress = progress.model_copy(update={"awarded": {k: sorted(v) for k, v in held[key].items()}})
        awards = settle(progress, [badge], key).awards
        if awards:
            receiving.append(Qualifier(key, contact.name, contact.email, len(awards), awards[0].evidence))
    receiving.sort(key=lambda q: ((q.name or "").casefold(), q.email))
    holders = sum(1 for badges in held.values() if badges.get(badge.id))
    people = len(set(histories) | set(held))
    return Preview(badge, receiving, holders, people)


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str
    lines: list[str] = field(default_factory=list)  # a unified diff of the criteria, when they changed


_COMPARED = ["name", "description", "criteria_narrative", "image", "tags", "repeat", "expires_after_days"]


def changes(old: BadgeClassIn, new: BadgeClassIn, names: dict[str, str]) -> list[Change]:
    """What a new version changes, field by field; criteria in plain words and as YAML lines."""
    found = []
    for name in _COMPARED:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            found.append(Change(name, _shown(before), _shown(after)))
    if old.criteria != new.criteria:
        lines = list(
            difflib.unified_diff(
                criteria_yaml(old).splitlines(),
                criteria_yaml(new).splitlines(),
                "before",
                "after",
                lineterm="",
                n=2,
            )
        )
        found.append(Change("criteria", describe_class(old, names), describe_class(new, names), lines[2:]))
    return found


def _shown(value: object) -> str:
    if value is None or value == []:
        return "(none)"
    return ", ".join(value) if isinstance(value, list) else str(value)


def criteria_yaml(badge: BadgeClassIn) -> str:
    """The criteria as the API takes them, in YAML without the defaults (the advanced box)."""
    tree = badge.model_dump(mode="json", include={"criteria"}, exclude_none=True)["criteria"]
    return yaml.safe_dump(_pruned(tree), sort_keys=False, allow_unicode=True)


def _pruned(tree: object) -> object:
    """The tree without empty filters, which say nothing."""
    if isinstance(tree, dict):
        return {k: _pruned(v) for k, v in tree.items() if v != {}}
    if isinstance(tree, list):
        return [_pruned(v) for v in tree]
    return tree


@dataclass(frozen=True)
class Version:
    badge: BadgeClass
    holders: list[str]  # names (or emails) of the people holding a credential of this version


async def versions(store: BuilderStore, org: Org, badge_id: str) -> list[Version]:
    """Every version of a class, newest first, with who holds a credential awarded under it;
    credentials issued before versions were recorded count for the first version."""
    latest = await store.badge_class(org.id, badge_id)
    if latest is None:
        return []
    contacts = {p.recipient_key: p for p in await store.recipients(org.id)}
    holders: dict[int, list[str]] = defaultdict(list)
    for credential in await store.credentials(org.id, badge_class_id=badge_id):
        contact = contacts.get(credential.recipient_key)
        shown = (contact.name or contact.email) if contact else "(erased)"
        holders[credential.badge_class_version or 1].append(shown)
    found = []
    for number in range(latest.version, 0, -1):
        badge = await store.badge_class(org.id, badge_id, number)
        if badge is not None:
            found.append(Version(badge, sorted(holders.get(number, []), key=str.casefold)))
    return found


async def publish(store: BuilderStore, publisher: Publisher, org: Org, body: BadgeClassIn) -> BadgeClass:
    """Stores the next version and hands it to the aggregator, as POST /v1/badge-classes does."""
    badge = await store.save_badge_class(org.id, body, org.timezone)
    await publisher.publish(badge)
    return badge
