from __future__ import annotations

from fastapi import APIRouter

from strongroom.api.actions import public_route

router = APIRouter()


@router.get("/healthz", **public_route())
def healthz() -> dict[str, str]:
    """200 once the server accepts requests (it is mounted only after startup finished)."""
    return {"status": "ok"}
