"""Setting Cairn up: the database schema, the Kafka topics, and organisations.

Run once before the services start (`cairn setup`; `cairn dev` does it for you), so that no
two services race to create the same tables or topics.
"""

from sqlalchemy.exc import IntegrityError

from cairn.adapters.kafka.topics import ensure_topics
from cairn.adapters.store import Store, store_for
from cairn.domain.records import Org
from cairn.settings import Settings
from schemas.admin import OrgCreateIn


async def setup(settings: Settings) -> None:
    store = store_for(settings)
    try:
        await store.create_schema()
    finally:
        await store.close()
    await ensure_topics(settings.kafka_bootstrap, settings.topic_partitions)


class OrgExists(ValueError):
    """The slug (given, or derived from the name) belongs to another organisation."""


async def create_organisation(store: Store, new: OrgCreateIn) -> tuple[Org, str]:
    """The one way an organisation is made (admin API and CLI): from a validated OrgCreateIn,
    so names, slugs and URLs follow the same rules whichever door they came in by."""
    try:
        return await store.create_org(
            new.name,
            new.given_slug,
            str(new.url) if new.url else None,
            str(new.email) if new.email else None,
            str(new.image_url) if new.image_url else None,
        )
    except IntegrityError as e:
        raise OrgExists(f"the slug {new.given_slug!r} is taken by another organisation; give another") from e


async def create_org(settings: Settings, new: OrgCreateIn) -> tuple[str, str]:
    """Returns the new organisation's id and its first API key (shown once, stored hashed).
    Raises OrgExists for a taken slug."""
    store = store_for(settings)
    try:
        await store.create_schema()
        org, api_key = await create_organisation(store, new)
        return org.id, api_key
    finally:
        await store.close()
