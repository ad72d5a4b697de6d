"""Activity in: one event or a batch as JSON, or a rota or sign-in sheet as CSV. Either way the
events reach Kafka all or none, and 202/200 means Kafka has them all."""

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

from cairn.adapters.metrics import EVENTS_ACCEPTED, EVENTS_REFUSED, refusal_reason
from cairn.domain.csv_import import decode_csv, parse_csv
from cairn.usecases.intake import accept_events, activity_window, intake_context
from schemas.activity import ActivityIn, EventBatchIn, EventsAccepted
from schemas.admin import CsvImportResult, CsvRowError
from services.gateway.dependencies import (
    EventWriter,
    IntakeDep,
    PublisherDep,
    SettingsDep,
    StoreDep,
    json_body,
)
from services.gateway.strict_json import ParsedOnceRoute

router = APIRouter(route_class=ParsedOnceRoute)
_single_event = TypeAdapter(ActivityIn)
EVENT_BODY_NAMES = ["VolunteerShiftIn", "WorkshopAttendanceIn", "ActivityVoidedIn", "EventBatchIn"]
MAX_CSV_BYTES = 5 * 1024 * 1024
PREVIEW_EVENTS = 20


@router.post(
    "/v1/events",
    status_code=202,
    response_model=EventsAccepted,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [{"$ref": f"#/components/schemas/{name}"} for name in EVENT_BODY_NAMES]
                    }
                }
            },
        }
    },
)
async def post_events(
    request: Request, org: EventWriter, intake: IntakeDep, settings: SettingsDep
) -> EventsAccepted:
    """One event, or {"events": [...]} validated all-or-nothing; 202 once Kafka has them all.
    Requests in flight together are accepted together (cairn.usecases.intake_batches)."""
    body = await json_body(request)
    context = intake_context(settings)
    try:
        if isinstance(body, dict) and "events" in body:
            events = EventBatchIn.model_validate(body, context=context).events
        else:
            events = [_single_event.validate_python(body, context=context)]
    except ValidationError as e:
        EVENTS_REFUSED.labels(refusal_reason(e.errors(include_url=False))).inc()
        raise RequestValidationError(e.errors(include_url=False), body=body) from e
    accepted = await intake.accept(org, events)
    EVENTS_ACCEPTED.inc(len(accepted))
    return EventsAccepted(accepted=accepted)


@router.post("/v1/events/csv", response_model=CsvImportResult, responses={422: {"description": "row errors"}})
async def upload_csv(
    file: UploadFile,
    org: EventWriter,
    store: StoreDep,
    publisher: PublisherDep,
    settings: SettingsDep,
    dry_run: bool = False,
    timezone: str = "UTC",
    date_order: Literal["dmy", "mdy"] = "dmy",
    mapping: Annotated[
        list[str] | None, Query(description="field=Column, e.g. email=Contact; overrides the header guess")
    ] = None,
) -> CsvImportResult:
    """A rota or sign-in sheet export. With dry_run, a preview and every row's errors; without,
    all rows are posted, or none if any row is wrong (422 lists them)."""
    data = await file.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise HTTPException(413, f"the file is over {MAX_CSV_BYTES // (1024 * 1024)} MB; split it")
    try:
        fields = dict(item.split("=", 1) for item in mapping or [])
        window = activity_window(settings)
        parsed = parse_csv(decode_csv(data), fields, timezone, date_order, window)
    except ValueError as e:
        raise HTTPException(422, str(e)) from e
    result = CsvImportResult(
        dry_run=dry_run,
        kind=parsed.kind,
        columns=parsed.columns,
        rows=len(parsed.events),
        errors=[CsvRowError(row=e.row, column=e.column, message=e.message) for e in parsed.errors],
        accepted=[],
        preview=[event.model_dump(mode="json") for _, event in parsed.events[:PREVIEW_EVENTS]],
    )
    if dry_run:
        return result
    if parsed.errors or not parsed.events:
        EVENTS_REFUSED.labels("csv:rows").inc()
        raise HTTPException(422, result.model_dump(mode="json"))
    events = [event for _, event in parsed.events]
    result.accepted = await accept_events(store, publisher, org, events)
    EVENTS_ACCEPTED.inc(len(result.accepted))
    return result
