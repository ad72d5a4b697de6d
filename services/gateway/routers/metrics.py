"""GET /metrics: the gateway's own counters (Prometheus text format), and the pipeline's totals
read from the store, which hold across every worker and restart. Counts only: no ids or names."""

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from cairn.adapters.metrics import store_totals
from services.gateway.dependencies import StoreDep

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(store: StoreDep) -> Response:
    credentials, emails = await store.pipeline_totals()
    body = generate_latest() + store_totals(credentials, emails)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
