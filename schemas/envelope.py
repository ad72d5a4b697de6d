"""The CloudEvents 1.0 envelope that wraps every record on every Cairn topic. Which type each
record gets, with its topic and key, is in the topic table (cairn/adapters/kafka/topics.py)."""

from datetime import UTC, datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

DataT = TypeVar("DataT", bound=BaseModel)  # a model, or a RootModel over a union


class CloudEvent(BaseModel, Generic[DataT]):
    """A CloudEvents 1.0 structured-mode JSON envelope; `orgid` is a Cairn extension attribute."""

    model_config = ConfigDict(extra="forbid")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, max_length=200, description="Unique per source; the idempotency key.")
    source: str = Field(min_length=1, description="URI reference of the producer, e.g. /orgs/<id>.")
    type: str = Field(min_length=1)
    subject: str | None = None
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: Literal["application/json"] = "application/json"
    orgid: str = Field(min_length=1, description="The organisation the record belongs to.")
    data: DataT
