"""Serves the OpenAPI document, merged from the fragments in openapi/ (one per route module)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from .responses import json_response

FRAGMENTS = Path(__file__).parent / "openapi"


def document() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((FRAGMENTS / "base.yml").read_text(encoding="utf-8"))
    for path in sorted(FRAGMENTS.glob("*.yml")):
        if path.name == "base.yml":
            continue
        part = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        doc.setdefault("paths", {}).update(part.get("paths", {}))
        for kind, items in part.get("components", {}).items():
            doc.setdefault("components", {}).setdefault(kind, {}).update(items)
    return doc


async def serve(request: web.Request) -> web.Response:
    return json_response(request.app["openapi"])


def setup(app: web.Application) -> None:
    app["openapi"] = document()
    app.router.add_get("/api/openapi.json", serve)
