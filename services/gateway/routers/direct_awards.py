"""Direct awards through the API: a badge for named people, with the coordinator's reason."""

from fastapi import APIRouter, HTTPException

from cairn.usecases.direct_awards import KeyReused, NoSuchBadge, award_directly
from schemas.direct_awards import DirectAwardAccepted, DirectAwardIn
from services.gateway.dependencies import ClockDep, CredentialWriter, PublisherDep, StoreDep
from services.gateway.strict_json import ParsedOnceRoute

router = APIRouter(route_class=ParsedOnceRoute)


@router.post(
    "/v1/badge-classes/{badge_id}/awards",
    status_code=202,
    response_model=DirectAwardAccepted,
    responses={
        404: {"description": "no such badge class"},
        409: {"description": "key used for another award"},
    },
)
async def post_direct_award(
    badge_id: str,
    body: DirectAwardIn,
    org: CredentialWriter,
    store: StoreDep,
    publisher: PublisherDep,
    clock: ClockDep,
) -> DirectAwardAccepted:
    """202 once Kafka has every award; the signer issues the credentials and the notifier emails
    them. The same idempotency_key and body again answer the same ids with `replayed: true`."""
    try:
        return await award_directly(store, publisher, org, badge_id, body, clock)
    except NoSuchBadge as e:
        raise HTTPException(404, "no such badge class") from e
    except KeyReused as e:
        raise HTTPException(409, str(e)) from e
