"""Reading a source's pages: over HTTP(S) as JSON (`HttpJsonFetcher`) or from a directory of files (`FileFetcher`).

A fetcher reads EVERY page before the sync writes anything (jobs.sync), and returns the records with what the
source reported about them (its total and checksum). Failures are sorted into two kinds, which decide whether
the job runner retries:

- transient (`SourceUnavailable`, a jobs.runner.TransientError): HTTP 5xx and 429, time-outs, connection errors,
  a source whose total changes in the middle of a fetch. The runner retries per the source's max_attempts.
- permanent (`SyncError` and subclasses): any other 4xx, a page that is not JSON or lacks the records, a missing
  credential, paging that never ends. Retrying would only repeat them; the run fails at once with the reason.

Credentials come from an environment variable (or a Django setting) named in the source, never from the source
row or the code. Reading them from HashiCorp Vault (when VAULT_ADDR is set) is future work: the settings module
would put them in the environment first.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings

from .runner import TransientError
from .sync_models import CREDENTIAL_NAME, CREDENTIAL_PREFIX, AuthType, Paging, SyncSource, file_sources_allowed
from .sync_models import source_directory as _source_directory

# A loop guard: paging that has not ended after this many pages is misconfigured (or a source that never stops).
MAX_PAGES = 10_000
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
MISSING = object()


class SyncError(Exception):
    """A permanent failure of a sync: the message says what is wrong and what to do. Not retried."""


class MalformedPage(SyncError):
    """A page that is not JSON, or not shaped as the source's configuration says."""


class SourceRefused(SyncError):
    """The source answered with a 4xx other than 429 (bad address, refused credentials …)."""


class CredentialMissing(SyncError):
    """The variable that should hold the source's secret is not set on this job server."""


class SourceUnavailable(TransientError):
    """The source is down, busy or slow (5xx, 429, time-out, network error): worth a retry."""


@dataclass
class Fetched:
    """Every record of one complete fetch, with what the source said about them."""

    records: list[Any] = field(default_factory=list)
    reported_total: int | None = None
    reported_checksum: str | None = None
    pages: int = 0


def dig(document: Any, path: str) -> Any:
    """The value at dot path `path` ("data.items", "lines.0.amount") in `document`, or MISSING."""
    value = document
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def resolve_credential(name: str) -> str:
    """The secret in environment variable (or setting) `name`; only SYNC_… names, so no other secret can leak."""
    if not CREDENTIAL_NAME.match(name or ""):
        raise CredentialMissing(f"The credential variable must be named {CREDENTIAL_PREFIX}…, not “{name}”.")
    value = os.environ.get(name) or getattr(settings, name, None)
    if not value:
        raise CredentialMissing(
            f"The credential variable {name} is not set on this job server: set it in the job servers' "
            "environment file (or settings), then run the job again."
        )
    return str(value)


class PageReader:
    """What every fetcher shares: pulling records, total and checksum out of a page, and the paging bookkeeping."""

    def __init__(self, source: SyncSource) -> None:
        self.source = source
        self.result = Fetched()

    def take_page(self, page: Any, where: str) -> list[Any]:
        """Add one page's records to the result; returns them (the paging decides from them what comes next)."""
        records = dig(page, self.source.records_path) if self.source.records_path else page
        if records is MISSING:
            raise MalformedPage(f"{where} has no “{self.source.records_path}” (the records path); is it the right API?")
        if not isinstance(records, list):
            raise MalformedPage(f"{where}: “{self.source.records_path or 'the page'}” is not a list of records.")
        self._note_total(page, where)
        self._note_checksum(page, where)
        self.result.records.extend(records)
        self.result.pages += 1
        if self.result.pages > MAX_PAGES:
            raise MalformedPage(f"More than {MAX_PAGES} pages: the paging never ends; check the paging settings.")
        return records

    def _note_total(self, page: Any, where: str) -> None:
        if not self.source.total_path:
            return
        total = dig(page, self.source.total_path)
        if total is MISSING or total is None:
            return
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise MalformedPage(f"{where}: the total ({self.source.total_path}) is not a whole number: {total!r}.")
        previous = self.result.reported_total
        if previous is not None and previous != total:
            # The source changed while we read it; a fresh attempt reads a consistent copy.
            raise SourceUnavailable(f"The source's total changed during the fetch ({previous} → {total}); retrying.")
        self.result.reported_total = total

    def _note_checksum(self, page: Any, where: str) -> None:
        if not self.source.checksum_path:
            return
        checksum = dig(page, self.source.checksum_path)
        if checksum is MISSING or checksum is None:
            return
        if not isinstance(checksum, str):
            raise MalformedPage(f"{where}: the checksum ({self.source.checksum_path}) is not a string.")
        previous = self.result.reported_checksum
        if previous is not None and previous != checksum.lower():
            raise SourceUnavailable("The source's checksum changed during the fetch; retrying.")
        self.result.reported_checksum = checksum.lower()

    def finished(self, records: list[Any], fetched_before: int) -> bool:
        """After a page-number or offset page: is that the last one?

        With a reported total, stop once that many records are in (a server that caps the page size below ours
        then still gets read to the end); without one, a page shorter than the page size is the last.
        """
        if not records:
            return True
        total = self.result.reported_total
        if total is not None:
            return fetched_before + len(records) >= total
        return len(records) < self.source.page_size


class HttpJsonFetcher(PageReader):
    """Pages of JSON over HTTP(S), with (connect, read) time-outs, credentials and the source's paging style."""

    def __init__(self, source: SyncSource, session: requests.Session | None = None) -> None:
        super().__init__(source)
        self.session = session or requests.Session()
        self.origin = urlsplit(source.base_url)[:2]

    def fetch_all(self) -> Fetched:
        self.session.headers.update(self.headers())
        self.session.auth = self.basic_auth()
        paging = self.source.paging
        if paging == Paging.NONE:
            self.take_page(self.get(self.source.base_url, {}, 1), "The page")
        elif paging == Paging.PAGE_NUMBER:
            self._page_numbers()
        elif paging == Paging.OFFSET_LIMIT:
            self._offsets()
        elif paging == Paging.NEXT_LINK:
            self._next_links()
        else:
            raise SyncError(f"Unknown paging style “{paging}”.")
        return self.result

    # Paging styles -------------------------------------------------------------------------------------------------
    def _page_numbers(self) -> None:
        page_param = self.source.page_param or "page"
        size_param = self.source.size_param or "page_size"
        number = 1
        while True:
            before = len(self.result.records)
            page = self.get(self.source.base_url, {page_param: number, size_param: self.source.page_size}, number)
            records = self.take_page(page, f"Page {number}")
            if self.finished(records, before):
                return
            number += 1

    def _offsets(self) -> None:
        offset_param = self.source.page_param or "offset"
        limit_param = self.source.size_param or "limit"
        number = 1
        while True:
            before = len(self.result.records)
            params = {offset_param: before, limit_param: self.source.page_size}
            records = self.take_page(self.get(self.source.base_url, params, number), f"Page {number} (offset {before})")
            if self.finished(records, before):
                return
            number += 1

    def _next_links(self) -> None:
        url: str = self.source.base_url
        seen = set()
        number = 1
        while True:
            seen.add(url)
            page = self.get(url, {}, number)
            self.take_page(page, f"Page {number}")
            following = dig(page, self.source.next_path)
            if following in (MISSING, None, ""):
                return
            if not isinstance(following, str):
                raise MalformedPage(f"Page {number}: the next link ({self.source.next_path}) is not a URL.")
            url = self.same_origin(urljoin(url, following), number)
            if url in seen:
                raise MalformedPage(f"Page {number} links back to a page already read ({url}); the paging loops.")
            number += 1

    def same_origin(self, url: str, number: int) -> str:
        """Follow next links only on the source's own scheme and host: the credentials must go nowhere else."""
        if urlsplit(url)[:2] != self.origin:
            raise MalformedPage(f"Page {number}'s next link leaves the source ({url}); refusing to send credentials.")
        return url

    # One request ---------------------------------------------------------------------------------------------------
    def timeouts(self) -> tuple[float, float]:
        read = float(self.source.request_timeout_seconds)
        return (min(read, 10.0), read)

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": f"Atrium-sync/{settings.ATRIUM_VERSION}"}
        if self.source.auth_type == AuthType.BEARER:
            headers["Authorization"] = f"Bearer {resolve_credential(self.source.credential_setting)}"
        elif self.source.auth_type == AuthType.HEADER:
            headers[self.source.auth_header] = resolve_credential(self.source.credential_setting)
        return headers

    def basic_auth(self) -> tuple[str, str] | None:
        if self.source.auth_type != AuthType.BASIC:
            return None
        user, colon, password = resolve_credential(self.source.credential_setting).partition(":")
        if not colon:
            raise CredentialMissing(
                f"{self.source.credential_setting} must hold user:password for basic authentication."
            )
        return (user, password)

    def get(self, url: str, params: dict[str, Any], number: int) -> Any:
        """GET one page and parse it; sorts every failure into transient or permanent (see the module docstring)."""
        where = f"page {number} of {self.source.slug}"
        try:
            response = self.session.get(url, params=params, timeout=self.timeouts())
        except requests.Timeout as exc:
            raise SourceUnavailable(
                f"The source did not answer {where} within {self.source.request_timeout_seconds:g} s ({url})."
            ) from exc
        except requests.ConnectionError as exc:
            raise SourceUnavailable(f"Could not connect to the source for {where} ({url}): {exc}") from exc
        if response.status_code in RETRYABLE_STATUS or response.status_code >= 500:
            raise SourceUnavailable(f"HTTP {response.status_code} from the source for {where} ({response.url}).")
        if response.status_code in (401, 403):
            raise SourceRefused(
                f"HTTP {response.status_code} for {where}: the source refused the credentials "
                f"({self.source.credential_setting or 'none configured'})."
            )
        if response.status_code >= 400:
            raise SourceRefused(f"HTTP {response.status_code} for {where} ({response.url}); check the address.")
        try:
            return response.json()
        except ValueError as exc:
            raise MalformedPage(f"Page {number} of {self.source.slug} is not JSON ({response.url}).") from exc


class FileFetcher(PageReader):
    """Dev and test only: a directory of page-1.json, page-2.json … read in order, as if served page by page."""

    def fetch_all(self) -> Fetched:
        if not file_sources_allowed():
            raise SyncError("file:// sources are for dev and test only.")
        directory = _source_directory(self.source.base_url)
        if not directory.is_dir():
            raise SyncError(f"There is no directory {directory}.")
        for number in range(1, MAX_PAGES + 1):
            path = directory / f"page-{number}.json"
            if not path.exists():
                if number == 1:
                    raise MalformedPage(f"{directory} has no page-1.json.")
                return self.result
            try:
                page = json.loads(path.read_text(encoding="utf-8"))
            except ValueError as exc:
                raise MalformedPage(f"{path.name} is not JSON: {exc}") from exc
            self.take_page(page, path.name)
        raise MalformedPage(f"More than {MAX_PAGES} page files in {directory}.")


def fetcher_for(source: SyncSource) -> HttpJsonFetcher | FileFetcher:
    """The fetcher that reads `source`'s base URL."""
    if urlsplit(source.base_url).scheme == "file":
        return FileFetcher(source)
    return HttpJsonFetcher(source)
