"""The aggregator's wiring: a Faust worker that folds activity into progress and emits awards.

`build` makes the Faust app, its topics and tables, the flow (folding.py), the catalog of badge
classes (catalog.py) and Faust's repairs (faust_repairs/), and registers the agents, the timer
and the task that drive them. Nothing here decides anything.
"""

import logging
from dataclasses import dataclass
from typing import Any

import faust

from cairn.adapters import logs
from cairn.adapters.kafka import topics
from cairn.adapters.kafka.connection import client_options
from cairn.adapters.metrics import CONSUMER_LAG
from cairn.adapters.readiness import WORKER
from cairn.domain.criteria import BeforeCompactedHistory
from cairn.domain.failures import RetryPolicy
from cairn.settings import Settings
from services.aggregator import faults
from services.aggregator.catalog import Catalog, follow
from services.aggregator.faust_repairs.processed_positions import ProcessedPositions, processed_table
from services.aggregator.faust_repairs.transport import App
from services.aggregator.faust_repairs.watchdog import ActivityPartitions, Watchdog
from services.aggregator.folding import Folding
from services.aggregator.sending import DeadLetters, Outbox

log = logging.getLogger("cairn.aggregator")

BATCH_MAX, BATCH_WITHIN = 500, 0.05  # seconds: the most an event waits for others to share its batch


@dataclass(frozen=True)
class Worker:
    app: faust.App
    progress_table: faust.Table  # org_id:recipient_key -> Progress JSON, co-partitioned with activity
    processed_table: faust.Table
    folding: Folding
    catalog: Catalog


def broker_options(settings: Settings) -> dict[str, Any]:
    """Faust's broker list and credentials, from the same options every aiokafka client gets."""
    options = client_options(settings)
    context = options.get("ssl_context")
    credentials: faust.types.auth.CredentialsT | None = None
    if "sasl_mechanism" in options:
        credentials = faust.SASLCredentials(
            username=options["sasl_plain_username"],
            password=options["sasl_plain_password"],
            mechanism=options["sasl_mechanism"],
            ssl_context=context,
        )
    elif context is not None:
        credentials = faust.SSLCredentials(context)
    brokers = [f"kafka://{server}" for server in options["bootstrap_servers"]]
    return {"broker": brokers, "broker_credentials": credentials}


MiB = 1024 * 1024
# Each partition of a table is a RocksDB of its own. Faust's defaults (three 64 MiB write buffers
# and a 2 GiB block cache per partition) let a worker's memory grow for hours as they fill: the
# one-hour soak saw the aggregator go from 91 to 436 MB. These bound it.
PROGRESS_STORE = {"write_buffer_size": 4 * MiB, "max_write_buffer_number": 2, "block_cache_size": 4 * MiB}
PROCESSED_STORE = {"write_buffer_size": MiB // 4, "max_write_buffer_number": 2, "block_cache_size": MiB // 4}


def faust_app(settings: Settings) -> faust.App:
    return App(
        "cairn-aggregator",
        **broker_options(settings),
        store="rocksdb://",
        datadir=str(settings.var_dir / settings.aggregator_name),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication_factor,
        producer_acks=-1,
        processing_guarantee="at_least_once",
        web_enabled=False,
        web_bind="127.0.0.1",
        web_port=settings.aggregator_web_port,
        consumer_auto_offset_reset="earliest",
        # `cairn setup` creates the tables' changelog topics, but a loaded broker's first metadata
        # answer can still lag; Faust then refuses every table write (PartitionsMismatch) until it
        # reads the metadata again: every 5 s here instead of the default 5 minutes.
        consumer_metadata_max_age_ms=5_000,
        broker_session_timeout=10,
        broker_heartbeat_interval=3,
        key_serializer="raw",
        value_serializer="raw",
        # the worker's logs as JSON lines from its first line (cairn.adapters.logs)
        logging_config=None if settings.log_format == "text" else logs.dict_config(settings.aggregator_name),
    )


def build(settings: Settings) -> Worker:
    app = faust_app(settings)
    partitions = settings.topic_partitions
    WORKER.joining(settings.aggregator_name)

    @app.on_partitions_assigned.connect
    async def consuming(sender: faust.App, assigned: object, **kwargs: object) -> None:
        """Ready on the metrics port's /readyz once the group has given this worker partitions."""
        WORKER.consuming(settings.aggregator_name)

    def topic(name: str, **options: int) -> faust.TopicT:
        return app.topic(name, key_type=bytes, value_type=bytes, **options)

    activity_topic = topic(topics.ACTIVITY)
    reevaluate_topic = topic(topics.REEVALUATE, partitions=partitions)
    progress_table = app.Table(
        "progress",
        default=None,
        key_type=bytes,
        value_type=bytes,
        partitions=partitions,
        options=dict(PROGRESS_STORE),  # a copy: Faust's store pops keys from it
    )
    positions = ProcessedPositions(
        app, processed_table(app, partitions, dict(PROCESSED_STORE)), progress_table
    )
    catalog = Catalog()

    def pause_activity() -> None:
        app.consumer.pause_partitions(tp for tp in app.consumer.assignment() if tp.topic == topics.ACTIVITY)

    folding = faults.folding(
        pause_activity,
        progress_table=progress_table,
        positions=positions,
        catalog=catalog,
        outbox=Outbox(topic(topics.AWARDS), topic(topics.AWARD_QUESTIONS), topic(topics.PROGRESS)),
        dead_letters=DeadLetters(
            {name: topic(topics.dlq(name)) for name in (topics.ACTIVITY, topics.REEVALUATE)}
        ),
        reevaluate_topic=reevaluate_topic,
        failures=RetryPolicy(
            max_attempts=settings.consumer_max_attempts, permanent=(BeforeCompactedHistory,)
        ),
        keep=settings.progress_keep_ids,
    )
    reader = ActivityPartitions(app, positions, settings)
    watchdog = Watchdog(app, reader, topics.ACTIVITY, settings.aggregator_stall_seconds)

    @app.agent(activity_topic, name="services.aggregator.app.aggregate", concurrency=1)
    async def aggregate(stream: faust.StreamT[bytes]) -> None:
        """A batch is up to BATCH_MAX events, or what arrived within BATCH_WITHIN seconds."""
        async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN):
            await folding.batch(list(events))

    @app.agent(reevaluate_topic, name="services.aggregator.app.reevaluate", concurrency=1)
    async def reevaluate(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            await folding.reevaluate(event)

    @app.timer(interval=5.0, name="services.aggregator.app.watch_activity_partitions")
    async def watch_activity_partitions() -> None:
        await watchdog.check()

    @app.timer(interval=5.0, name="services.aggregator.app.report_lag")
    async def report_lag() -> None:
        """cairn_consumer_lag for the aggregator's group: high watermark less position."""
        for tp in app.consumer.assignment():
            if tp.topic not in (topics.ACTIVITY, topics.REEVALUATE):
                continue
            try:
                highwater, position = app.consumer.highwater(tp), await app.consumer.position(tp)
            except Exception:  # a metric never stops the worker
                continue
            if highwater is not None and position is not None:
                CONSUMER_LAG.labels(app.conf.id, tp.topic, str(tp.partition)).set(
                    max(0, highwater - position)
                )

    @app.task
    async def follow_badge_classes() -> None:
        await follow(
            catalog,
            settings,
            app.tables.recovery.completed.wait,
            folding.request_reevaluation,
        )

    return Worker(app, progress_table, positions.table, folding, catalog)
