"""An organisation with 10,000 volunteers and 100,000 activities, written straight into the
store's tables and read models (bulk inserts, seconds), and the gateway's app over that store
without Kafka: what the timing test and the browser test of the volunteer pages share."""

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from cairn.adapters.store import Store
from cairn.adapters.store import tables as t
from cairn.domain.records import Org
from cairn.domain.volunteers import closeness, natural_key
from cairn.settings import Settings
from schemas.awards import BadgeProgress, Evidence
from schemas.badge_class import BadgeClassIn
from services.gateway.app import create_app
from services.gateway.dependencies import Limits
from services.gateway.rate_limits import RateLimiter

PEOPLE, ACTIVITIES = 10_000, 100_000
FIRST = ["Ana", "Ben", "Chloé", "Dev", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kemal", "Lena"]
LAST = ["Moreno", "Sato", "Okafor", "Novak", "Silva", "Berg", "Kaur", "Dubois", "Rossi", "Young"]
START = datetime(2026, 6, 1, tzinfo=UTC)
BADGES = [
    BadgeClassIn(
        id="pantry-10",
        name="Pantry: 10 hours",
        description="d",
        criteria_narrative="Ten hours at the pantry.",
        criteria={"kind": "total_hours", "at_least": 10},
    ),
    BadgeClassIn(
        id="six-shifts",
        name="Six shifts",
        description="d",
        criteria_narrative="Six shifts.",
        criteria={"kind": "count", "at_least": 6},
    ),
    BadgeClassIn(
        id="pantry-lead",
        name="Pantry lead",
        description="d",
        criteria_narrative="Both of the others.",
        criteria={
            "kind": "all",
            "of": [
                {"kind": "holds_badge", "badge": "pantry-10"},
                {"kind": "holds_badge", "badge": "six-shifts"},
            ],
        },
    ),
]


def person_key(i: int) -> str:
    return hashlib.sha256(f"volunteer-{i}".encode()).hexdigest()


def name_of(i: int) -> str:
    """Names repeat, so every tenth is "Volunteer N": the list must put 9 before 10."""
    return f"Volunteer {i}" if i % 10 == 0 else f"{FIRST[i % 12]} {LAST[(i // 12) % 10]} {i}"


@dataclass
class Seeded:
    org: Org
    api_key: str
    sample: str  # the recipient key of one volunteer with history, progress and a void


async def seed(store: Store, people: int = PEOPLE, activities: int = ACTIVITIES) -> Seeded:
    """The organisation, its badges, and `people` volunteers with `activities` shifts between
    them (one in fifty taken back by a void), their progress views and last activity."""
    org, api_key = await store.create_org("Big Food Bank", "big-food-bank")
    for badge in BADGES:
        await store.save_badge_class(org.id, badge)
    rng = random.Random(12)
    per_person = activities // people
    recipients, rows, views = [], [], []
    for i in range(people):
        key = person_key(i)
        hours, last = 0.0, None
        for j in range(per_person):
            at = START + timedelta(days=rng.randrange(150), hours=rng.randrange(8, 18))
            event_id = f"shift-{i}-{j}"
            voided = (i * per_person + j) % 50 == 0
            rows.append(
                {
                    "org_id": org.id,
                    "event_id": event_id,
                    "recipient_key": key,
                    "kind": "volunteer_shift",
                    "at": at,
                    "seconds": 3 * 3600 if i % 3 else 3600,
                    "label": "pantry",
                    "voids": None,
                    "reason": None,
                    "voided_by": f"void-{event_id}" if voided else None,
                    "void_reason": "entered twice" if voided else None,
                }
            )
            if voided:
                rows.append(
                    {
                        "org_id": org.id,
                        "event_id": f"void-{event_id}",
                        "recipient_key": key,
                        "kind": "activity_voided",
                        "at": at + timedelta(days=1),
                        "seconds": None,
                        "label": "",
                        "voids": event_id,
                        "reason": "entered twice",
                        "voided_by": None,
                        "void_reason": None,
                    }
                )
            else:
                hours += 3 if i % 3 else 1
            last = max(last or at, at)
        recipients.append(
            {
                "org_id": org.id,
                "recipient_key": key,
                "email": f"volunteer{i}@example.org",
                "name": name_of(i),
                "salt": f"{i:064x}",
                "sort_name": natural_key(name_of(i)),
                "last_activity_at": last,
            }
        )
        badges = _progress(hours, per_person)
        views.append(
            {
                "org_id": org.id,
                "recipient_key": key,
                "as_of": last or START,
                "badges": [b.model_dump(mode="json") for b in badges],
                "pending_voids": [],
                "closest": closeness(badges),
            }
        )
    async with store.engine.begin() as conn:
        await conn.execute(insert(t.Recipient), recipients)
        await conn.execute(insert(t.ProgressView), views)
        for start in range(0, len(rows), 20_000):
            await conn.execute(insert(t.ActivityRow), rows[start : start + 20_000])
    return Seeded(org, api_key, person_key(5))  # 5: one of their shifts was voided


def _progress(hours: float, shifts: int) -> list[BadgeProgress]:
    def badge(badge_id: str, name: str, measure: str, achieved: float, required: float) -> BadgeProgress:
        return BadgeProgress(
            badge_class_id=badge_id,
            badge_class_version=1,
            name=name,
            awarded=achieved >= required,
            questioned=False,
            figures=[Evidence(measure=measure, achieved=min(achieved, 10**6), required=required)],
        )

    pantry = badge("pantry-10", "Pantry: 10 hours", "hours", hours, 10)
    six = badge("six-shifts", "Six shifts", "activities", shifts, 6)
    held = float(pantry.awarded) + float(six.awarded)
    return [pantry, six, badge("pantry-lead", "Pantry lead", "badges held", held, 2)]


class NoPublisher:
    """The pages under test only read; a void would need Kafka."""

    async def publish(self, record: object) -> None:
        raise AssertionError("nothing should be published")

    async def publish_all(self, records: object) -> None:
        raise AssertionError("nothing should be published")


def app_over(store: Store, public_url: str = "http://cairn.test"):
    """The gateway's app with the store given and no Kafka (its lifespan is not run)."""
    app = create_app(Settings(public_url=public_url))
    app.state.settings = Settings(public_url=public_url)
    app.state.store, app.state.publisher = store, NoPublisher()
    app.state.limits = Limits(
        api_keys=RateLimiter(per_minute=10_000, burst=10_000),
        claim_lookups=RateLimiter(per_minute=100, burst=100),
        earner_emails=RateLimiter(per_minute=1, burst=3),
    )
    return app
