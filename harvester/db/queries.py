"""Lookups that more than one stage makes, defined once."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from harvester.agency.store import CHUNK, chunks
from harvester.db.models import Document

#: `documents.error_kind` of a URL that could not be fetched (the row records the attempt)
FETCH_ERROR = "fetch"


def newest_pages(s: Session, urls: Iterable[str]) -> dict[str, int]:
    """The newest fetched-fine document at each of `urls`, as requested or as finally served:
    the page a link was read from (`documents.parent_document_id`), for the crawl's store and
    for `link` alike. A failed fetch is not a page: a later attempt that failed must not hide
    the version the link was read from. URLs with no such document are absent."""
    wanted = sorted(set(urls))
    found: dict[str, int] = {}
    for chunk in chunks(wanted, CHUNK // 2):  # each URL is bound twice (url, final_url)
        rows = s.execute(select(Document.id, Document.url, Document.final_url).where(
            or_(Document.url.in_(chunk), Document.final_url.in_(chunk)),
            or_(Document.error_kind.is_(None), Document.error_kind != FETCH_ERROR)))
        for doc_id, url, final_url in rows:
            for u in (url, final_url):
                if u is not None and doc_id > found.get(u, 0):
                    found[u] = doc_id
    keep = set(wanted)
    return {u: d for u, d in found.items() if u in keep}
