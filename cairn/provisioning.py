"""Setting Cairn up: the database schema, the Kafka topics, and organisations.

Run once before the services start (`cairn setup`; `cairn dev` does it for you), so that no
two services race to create the same tables or topics.
"""

from cairn import bus
from cairn.settings import Settings
from cairn.store import store_for


async def setup(settings: Settings) -> None:
    store = store_for(settings)
    try:
        await store.create_schema()
    finally:
        await store.close()
    await bus.ensure_topics(settings.kafka_bootstrap, settings.topic_partitions)


async def create_org(
    settings: Settings,
    name: str,
    slug: str,
    url: str | None = None,
    email: str | None = None,
    image_url: str | None = None,
) -> tuple[str, str]:
    """Returns the new organisation's id and its first API key (shown once, stored hashed)."""
    store = store_for(settings)
    try:
        await store.create_schema()
        org, api_key = await store.create_org(name, slug, url, email, image_url)
        return org.id, api_key
    finally:
        await store.close()
