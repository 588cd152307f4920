"""Issue 10: the whole stack under steady traffic through a Galera node crash, a web instance crash, a rolling
deploy and a Redis outage. No user request may fail, no acknowledged write may be lost, the job runs exactly once
per schedule tick, and /-/health/ready reports each failure while it lasts.

The stack (tests/harness/ha_stack.py): the session's three-node Galera cluster, HAProxy with the shipped
haproxy.cfg and the shipped galera-check.sh as its health check, Redis, two gunicorn web instances with the shipped
gunicorn.conf.py (ATRIUM_ROLE=web) and nginx with the shipped atrium.conf, all on free ports under one temporary
directory. Around it, for the whole test:

- **page viewers**: four demo users, each signed in through the real sign-in form, GET /finance/ in a loop. A
  page counts when it is a 200 with the section on it (a redirect to the sign-in page means a lost session);
- **API writers**: two clients with write tokens of hana (hr editor) POST menu items to the hr section, each
  labelled with a unique number (`ha-write-000123`). A 2xx is an acknowledged write;
- **a readiness poller**: GET /-/health/ready of each web instance directly (not through nginx) every 0.5 s, and
  HAProxy's stats (which Galera node it sends connections to) at the same pace;
- **a job runner**: every TICK seconds, two `run_job tests.sleep` processes (tests/jobs/run_test_job.py, which is
  `manage.py run_job` with the test jobs registered), as two job servers whose crontabs fire at the same minute,
  connected through HAProxy and released at the same instant.

Phases: (1) `kill -9` of the Galera node HAProxy writes to, restart it (recovered position, IST); (2) `kill -9` of
web instance A, restart it; (3) a rolling deploy: stop A gracefully (SIGTERM), start it, wait until nginx sends it
requests again, then the same for B; (4) Redis stopped for a while, started again.

Every non-2xx answer and every connection error is printed with its time, phase, URL and status. The only
failures allowed to stay hidden are those the stack may hide because repeating the request is safe: nginx passing a
request on to the other instance (GET, or a request that never reached an instance) and the application's
deadlock retries; both are counted from nginx's access log and the instances' logs and printed. A summary table
(requests per phase, failures, p50/p95 latency, writes acknowledged/present, ticks/runs, readiness transitions) is
printed, and written as JSON to $ATRIUM_HA_REPORT when that is set. docs/reliability.md explains the figures.

Run: `.venv/bin/pytest tests/ha/test_failover.py -s -q` (about three minutes on two cores).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.harness.ha_stack import HAStack, WebInstance
from tests.jobs.testjobs import SLEEP_JOB, Runner, start_helper, subprocess_env

pytestmark = [
    pytest.mark.slow,
    # nginx's certificate is a self-signed one made for the test copy of atrium.conf.
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]

VIEWERS = ("fiona", "frank", "audrey", "admin")
SECTION_PAGE = "/finance/"
WRITER_USER = "hana"  # hr editor: her section-restricted write tokens may add hr menu items
WRITERS = 2
PASSWORD = "atrium-demo"
VIEW_PAUSE = 0.25  # seconds between one viewer's page views
WRITE_PAUSE = 0.6  # per writer: about 100 writes a minute, under the API's 120/min write throttle per token
POLL_INTERVAL = 0.5
# A readiness probe waits this long for an answer (an F5 monitor's timeout is several intervals): an instance whose
# workers are all busy answers late, which is not the same as an instance that is down (connection refused).
PROBE_TIMEOUT = 10
# Seconds between schedule ticks (every 15 minutes in production): longer than a run (start-up, JOB_SECONDS, the
# commit of its outcome) even when the run is slowed by the failover (Galera stalls commits until it has evicted a
# dead node, about 5 to 7 s), so that a tick never finds the previous tick's run still holding the lease.
TICK = 12.0
JOB_SECONDS = "2"  # how long tests.sleep runs: longer than any start skew between the two runners
REQUEST_TIMEOUT = 45  # above nginx's proxy_read_timeout (35 s): nginx answers first
GALERA_OUTAGE = 12.0  # seconds the killed Galera node stays down
WEB_OUTAGE = 8.0
REDIS_OUTAGE = 12.0
LABEL = "ha-write-{:06d}"


# ---------------------------------------------------------------------------------------------------------------
# Recording
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    """One request a user or API client made: when, in which phase, what came back."""

    at: float  # seconds since the traffic started
    duration: float
    phase: str
    kind: str  # "page", "write" or "read-back" (a writer checking whether an unanswered write was stored)
    who: str
    method: str
    url: str
    status: int | None  # None: no HTTP answer at all (connection refused or reset, timeout)
    error: str = ""
    number: int | None = None  # the write's number
    attempt: int = 1
    recovered: str = ""  # how the client safely completed the action after this attempt failed

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and not self.error

    @property
    def failed(self) -> bool:
        """The user's action failed: this attempt failed and nothing safe completed it afterwards."""
        return not self.ok and not self.recovered


@dataclass
class Probe:
    """One readiness answer of one web instance (or its absence)."""

    at: float
    instance: str
    status: int | None
    failed: list[str] = field(default_factory=list)
    degraded: list[str] = field(default_factory=list)
    cluster_size: str = ""
    detail: str = ""

    @property
    def down(self) -> bool:
        """No answer because nothing accepted the connection (a slow answer is not "down")."""
        return self.status is None and "Timeout" not in self.detail

    @property
    def state(self) -> str:
        if self.status is None:
            return "unreachable" if self.down else "no answer in time"
        words = ["ready" if self.status == 200 else f"{self.status} not ready"]
        if self.failed:
            words.append(f"failed={','.join(self.failed)}")
        if self.degraded:
            words.append(f"degraded={','.join(self.degraded)}")
        if self.cluster_size and self.cluster_size != "3":
            words.append(f"galera size {self.cluster_size}")
        return " ".join(words)


@dataclass
class Tick:
    """One schedule tick of the job runner: two runner processes started together."""

    number: int
    at: float
    phase: str
    pids: list[int] = field(default_factory=list)
    exit_codes: list[int | None] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    error: str = ""


class Recorder:
    """Everything the threads observe, with the phase it happened in; `now()` is seconds since the start."""

    def __init__(self) -> None:
        self.began = time.monotonic()
        self.lock = threading.Lock()
        self.phase = "warm-up"
        self.phases: list[dict[str, Any]] = []
        self.outcomes: list[Outcome] = []
        self.probes: list[Probe] = []
        self.backend: list[tuple[float, dict[str, str]]] = []
        self.ticks: list[Tick] = []
        self.acked: set[int] = set()
        self.events: list[tuple[float, str]] = []
        self.stopping = threading.Event()

    def now(self) -> float:
        return round(time.monotonic() - self.began, 3)

    def event(self, text: str) -> None:
        with self.lock:
            self.events.append((self.now(), text))
        print(f"[{self.now():7.2f}s] {text}", flush=True)

    @contextlib.contextmanager
    def in_phase(self, name: str) -> Iterator[None]:
        started = self.now()
        with self.lock:
            self.phase = name
        self.event(f"phase {name} begins")
        try:
            yield
        finally:
            self.phases.append({"phase": name, "start": started, "end": self.now()})
            with self.lock:
                self.phase = "between phases"

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)
            if outcome.kind == "write" and outcome.ok and outcome.number is not None:
                self.acked.add(outcome.number)

    def ack(self, number: int) -> None:
        with self.lock:
            self.acked.add(number)

    def phase_at(self, moment: float) -> str:
        for phase in self.phases:
            if phase["start"] <= moment <= phase["end"]:
                return str(phase["phase"])
        return "warm-up" if not self.phases or moment < self.phases[0]["start"] else "between phases"

    def probes_of(self, instance: str, start: float, end: float) -> list[Probe]:
        with self.lock:
            return [p for p in self.probes if p.instance == instance and start <= p.at <= end]


def wait_for(condition: Callable[[], bool], what: str, timeout: float, interval: float = 0.2) -> float:
    """Wait until `condition()`; seconds waited. Fails with `what` at the timeout."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if condition():
            return time.monotonic() - began
        time.sleep(interval)
    raise AssertionError(f"not {what} within {timeout} s")


# ---------------------------------------------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------------------------------------------
def new_session() -> requests.Session:
    session = requests.Session()
    session.verify = False  # nginx's self-signed test certificate
    session.trust_env = False  # REQUESTS_CA_BUNDLE and proxies from the environment would override the above
    return session


def sign_in(base: str, username: str) -> requests.Session:
    """A browser-like session signed in through the real sign-in form (CSRF token, Referer, secure cookies)."""
    session = new_session()
    form = session.get(f"{base}/accounts/login/", timeout=REQUEST_TIMEOUT)
    assert form.status_code == 200, f"sign-in form: {form.status_code}"
    answer = session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["atrium_csrftoken"]},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=REQUEST_TIMEOUT,
    )
    assert answer.status_code == 302, f"{username} could not sign in: {answer.status_code} {answer.text[:500]}"
    return session


def timed_request(
    recorder: Recorder, session: requests.Session, kind: str, who: str, method: str, url: str, **kwargs: Any
) -> tuple[Outcome, requests.Response | None]:
    started = recorder.now()
    phase = recorder.phase
    began = time.monotonic()
    response = None
    error = ""
    try:
        response = session.request(method, url, timeout=REQUEST_TIMEOUT, allow_redirects=False, **kwargs)
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    outcome = Outcome(
        at=started,
        duration=round(time.monotonic() - began, 4),
        phase=phase,
        kind=kind,
        who=who,
        method=method,
        url=url.split("://", 1)[-1].split("/", 1)[-1],
        status=None if response is None else response.status_code,
        error=error,
    )
    return outcome, response


def view_pages(recorder: Recorder, base: str, username: str, session: requests.Session) -> None:
    """GET the section page in a loop. nginx passes a GET that an instance did not answer to the other instance,
    but not one it had begun to answer: when the connection breaks mid-answer (an instance killed while sending
    it), the client, like a reader pressing reload, asks once more (a GET is safe to repeat). Any answer other than
    the page (an error status, a redirect to the sign-in page) is a failure."""
    while not recorder.stopping.is_set():
        for attempt in (1, 2):
            outcome, response = timed_request(recorder, session, "page", username, "GET", f"{base}{SECTION_PAGE}")
            outcome.attempt = attempt
            if response is not None and response.status_code == 200 and "Finance" not in response.text:
                outcome.error = "a 200 without the finance section on it"
            elif response is not None and response.status_code in (301, 302):
                outcome.error = f"redirected to {response.headers.get('Location')} (session lost?)"
            recorder.add(outcome)
            if response is not None or attempt == 2:
                break
            outcome.recovered = "asked again (a GET is safe to repeat)"
        recorder.stopping.wait(VIEW_PAUSE)


def no_instance_answered(outcome: Outcome) -> bool:
    """The request got no answer from the application: connection error, or nginx's 502 (the instance died or
    reset the connection) or 503. Whether it was carried out is unknown, so only an idempotent retry may follow."""
    return outcome.status in (None, 502, 503)


def write_records(recorder: Recorder, base: str, writer: int, token: str, section: int, numbers: Iterator[int]) -> None:
    """POST uniquely labelled menu items. A POST is not safe to repeat blindly, so after an attempt that got no
    answer the client retries idempotently: it reads the label back (GET, which nginx may retry) and sends the POST
    again only if the record is not there. A 2xx, or the record read back, acknowledges the write."""
    session = new_session()
    session.headers["Authorization"] = f"Bearer {token}"
    who = f"writer-{writer}"
    while not recorder.stopping.is_set():
        number = next(numbers)
        for attempt in range(1, 6):
            outcome, _ = timed_request(
                recorder,
                session,
                "write",
                who,
                "POST",
                f"{base}/api/v1/menu-items/",
                json={"section": section, "label": LABEL.format(number), "reason": "HA test write"},
            )
            outcome.number, outcome.attempt = number, attempt
            recorder.add(outcome)
            if outcome.ok or not no_instance_answered(outcome):
                break
            present = read_back(recorder, session, base, who, number)
            if present is None:
                break  # the read-back itself failed: the write stays unacknowledged, the attempt a failure
            if present:
                outcome.recovered = "read back: the write had been carried out"
                recorder.ack(number)
                break
            outcome.recovered = "read back: not carried out; sent again"
        recorder.stopping.wait(WRITE_PAUSE)


def read_back(recorder: Recorder, session: requests.Session, base: str, who: str, number: int) -> bool | None:
    """Whether the menu item labelled `number` exists (None when no read succeeded within 30 s)."""
    label = LABEL.format(number)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        outcome, response = timed_request(
            recorder,
            session,
            "read-back",
            who,
            "GET",
            f"{base}/api/v1/menu-items/",
            params={"section_slug": "hr", "label": label, "fields": "id,label"},
        )
        recorder.add(outcome)
        if response is not None and response.status_code == 200:
            return any(item["label"] == label for item in response.json()["results"])
        time.sleep(0.5)
    return None


def probe_readiness(recorder: Recorder, web: WebInstance, session: requests.Session) -> Probe:
    """One /-/health/ready request to one instance, directly, recorded with the time it was sent."""
    at = recorder.now()
    try:
        answer = session.get(f"{web.url}/-/health/ready", timeout=PROBE_TIMEOUT)
        body = answer.json() if answer.headers.get("Content-Type", "").startswith("application/json") else {}
        galera = body.get("checks", {}).get("galera", {})
        probe = Probe(
            at,
            web.name,
            answer.status_code,
            body.get("failed", []),
            body.get("degraded", []),
            str(galera.get("values", {}).get("wsrep_cluster_size", "")),
            "; ".join(
                f"{name}: {check.get('detail')}"
                for name, check in body.get("checks", {}).items()
                if not check.get("ok")
            ),
        )
    except (requests.RequestException, ValueError) as exc:
        probe = Probe(at, web.name, None, detail=type(exc).__name__)
    with recorder.lock:
        recorder.probes.append(probe)
    return probe


def poll_readiness(recorder: Recorder, web: WebInstance) -> None:
    """/-/health/ready of one instance, directly, every POLL_INTERVAL (one thread per instance)."""
    session = new_session()
    while not recorder.stopping.is_set():
        probe_readiness(recorder, web, session)
        recorder.stopping.wait(POLL_INTERVAL)


def poll_backend(recorder: Recorder, stack: HAStack) -> None:
    """HAProxy's view of the Galera nodes (its stats page), every POLL_INTERVAL."""
    while not recorder.stopping.is_set():
        states = stack.haproxy_states()
        with recorder.lock:
            recorder.backend.append((recorder.now(), states))
        recorder.stopping.wait(POLL_INTERVAL)


def run_ticks(recorder: Recorder, stack: HAStack, directory: Path) -> None:
    """Every TICK seconds, two runners of the job at once, each tick in its own thread (cron does not wait)."""
    env = subprocess_env(stack.database_url, ATRIUM_TEST_JOB_SECONDS=JOB_SECONDS)
    env["ATRIUM_VAR_DIR"] = str(stack.directory / "var")
    threads = []
    start = time.monotonic()
    for number in itertools.count():
        if recorder.stopping.wait(max(0.0, start + number * TICK - time.monotonic())):
            break
        tick = Tick(number, recorder.now(), recorder.phase)
        with recorder.lock:
            recorder.ticks.append(tick)
        thread = threading.Thread(target=run_tick, args=(tick, env, directory / f"go-{number}"), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout=120)


def run_tick(tick: Tick, env: dict[str, str], go_file: Path) -> None:
    runners: list[Runner] = []
    try:
        runners = [
            start_helper(
                f"tick {tick.number} runner {i}", ["run", SLEEP_JOB], {**env, "ATRIUM_TEST_GO_FILE": str(go_file)}
            )
            for i in (1, 2)
        ]
        tick.pids = [runner.process.pid for runner in runners]
        deadline = time.monotonic() + 60
        for runner in runners:
            runner.wait_ready(deadline)
        # Released together, as two job servers whose crontabs fire at the same minute.
        temporary = go_file.with_suffix(".tmp")
        temporary.write_text(f"{time.time() + 0.2:.6f}", encoding="utf-8")
        temporary.rename(go_file)
        for runner in runners:
            runner.finish(timeout=90)
    except (AssertionError, OSError, subprocess.SubprocessError) as exc:
        tick.error = str(exc)[-2000:]
        for runner in runners:
            if runner.process.poll() is None:
                runner.process.kill()
                runner.finish(timeout=10)
    tick.exit_codes = [runner.process.returncode for runner in runners]
    tick.outputs = [runner.output()[-1500:] for runner in runners]


# ---------------------------------------------------------------------------------------------------------------
# Set-up through the real site
# ---------------------------------------------------------------------------------------------------------------
def create_write_tokens(stack: HAStack) -> tuple[int, list[str]]:
    """hana's write tokens restricted to hr (accounts.tokens.create_token, as /accounts/tokens/ does)."""
    code = (
        "import json\n"
        "from accounts.models import User\n"
        "from accounts.tokens import create_token\n"
        "from tenants.models import Section\n"
        "hr = Section.objects.get(slug='hr')\n"
        f"user = User.objects.get(username='{WRITER_USER}')\n"
        "tokens = [create_token(user, name=f'HA writer {i}', scope='write', section=hr).plaintext"
        f" for i in range({WRITERS})]\n"
        "print('TOKENS ' + json.dumps({'section': hr.pk, 'tokens': tokens}))\n"
    )
    output = stack.manage("shell", "--no-imports", "-c", code)
    line = next(line for line in output.splitlines() if line.startswith("TOKENS "))
    data = json.loads(line[len("TOKENS ") :])
    return int(data["section"]), list(data["tokens"])


# ---------------------------------------------------------------------------------------------------------------
# The test
# ---------------------------------------------------------------------------------------------------------------
def test_no_request_fails_and_nothing_is_lost_through_failovers(ha_stack: HAStack, tmp_path: Path) -> None:
    stack = ha_stack
    cluster = stack.cluster
    base = stack.url
    recorder = Recorder()

    viewers = {username: sign_in(base, username) for username in VIEWERS}
    sign_in(base, WRITER_USER)  # mirrors hana's directory groups (hr-editors) before her tokens are made
    section, tokens = create_write_tokens(stack)

    numbers = itertools.count(1)
    lock = threading.Lock()

    def next_number() -> Iterator[int]:
        while True:
            with lock:
                value = next(numbers)
            yield value

    shared_numbers = next_number()
    threads = [
        threading.Thread(target=view_pages, args=(recorder, base, name, session), name=f"viewer-{name}", daemon=True)
        for name, session in viewers.items()
    ]
    threads += [
        threading.Thread(
            target=write_records,
            args=(recorder, base, i, token, section, shared_numbers),
            name=f"writer-{i}",
            daemon=True,
        )
        for i, token in enumerate(tokens, start=1)
    ]
    threads += [
        threading.Thread(target=poll_readiness, args=(recorder, web), name=f"ready-{web.name}", daemon=True)
        for web in stack.webs
    ]
    threads.append(threading.Thread(target=poll_backend, args=(recorder, stack), name="haproxy", daemon=True))
    threads.append(threading.Thread(target=run_ticks, args=(recorder, stack, tmp_path), name="ticks", daemon=True))
    for thread in threads:
        thread.start()

    marks: dict[str, float] = {}
    try:
        # Warm-up: every viewer has seen the page and every writer had a write acknowledged.
        wait_for(
            lambda: {o.who for o in list(recorder.outcomes) if o.ok} >= set(VIEWERS) | {"writer-1", "writer-2"},
            "every client served once",
            timeout=60,
        )
        recorder.stopping.wait(4)

        # 1. kill -9 of the Galera node HAProxy writes to; restart it.
        with recorder.in_phase("1 galera node killed"):
            assert stack.haproxy_states().get("db1") == "UP", stack.haproxy_states()
            # The node dies while a scheduled run is in progress (its runner is connected to n1 through HAProxy),
            # as a crash at any moment would find one some of the time: the run must still end recorded and free
            # its lease, or the following ticks find the job "already running".
            wait_for(lambda: job_running(stack), "a run of the job in progress", timeout=2 * TICK + 30)
            marks["galera_kill"] = recorder.now()
            cluster.kill(1)
            recorder.event("kill -9 of Galera node n1 (HAProxy's db1, the writer)")
            waited = stack.wait_for_backend(lambda s: s.get("db1", "").startswith("DOWN"), "db1 DOWN", timeout=30)
            recorder.event(f"HAProxy marked db1 DOWN after {waited:.1f} s")
            wait_for(
                lambda: all(
                    any(p.cluster_size == "2" for p in recorder.probes_of(web.name, marks["galera_kill"], 1e9))
                    for web in stack.webs
                ),
                "a cluster of 2 in both instances' readiness detail",
                timeout=40,
            )
            recorder.event("both instances' readiness shows wsrep_cluster_size=2")
            recorder.stopping.wait(max(0.0, marks["galera_kill"] + GALERA_OUTAGE - recorder.now()))
            marks["galera_restart"] = recorder.now()
            took = cluster.restart(1)
            recorder.event(f"n1 restarted and Synced in {took:.1f} s")
            waited = stack.wait_for_backend(lambda s: s.get("db1") == "UP", "db1 UP", timeout=60)
            recorder.event(f"HAProxy has db1 UP again after {waited:.1f} s")
            marks["galera_back"] = recorder.now()
            recorder.stopping.wait(3)

        # 2. kill -9 of web instance A; restart it.
        with recorder.in_phase("2 web instance killed"):
            web_a = stack.web("web-a")
            marks["web_kill"] = recorder.now()
            stack.kill_web("web-a")
            recorder.event("kill -9 of web-a (master and workers)")
            recorder.stopping.wait(WEB_OUTAGE)
            marks["web_restart"] = recorder.now()
            took = stack.start_web("web-a")
            recorder.event(f"web-a restarted and ready in {took:.1f} s")
            waited = wait_until_nginx_routes_to(stack, web_a.port, after=marks["web_restart"], recorder=recorder)
            recorder.event(f"nginx sends requests to web-a again after {waited:.1f} s")
            marks["web_back"] = recorder.now()
            recorder.stopping.wait(2)

        # 3. A rolling deploy: each instance stopped gracefully, started, back in nginx's rotation, then the next.
        with recorder.in_phase("3 rolling deploy"):
            for name in ("web-a", "web-b"):
                web = stack.web(name)
                marks[f"roll_{name}_stop"] = recorder.now()
                took = stack.stop_web(name)
                recorder.event(f"{name} stopped gracefully (SIGTERM) in {took:.1f} s")
                # Probed once here as well: a restart can be quicker than the pollers' interval, and once the new
                # master listens, a probe waits for its workers and is answered 200 when they are ready.
                probe_readiness(recorder, web, new_session())
                took = stack.start_web(name)
                recorder.event(f"{name} started and ready in {took:.1f} s")
                marks[f"roll_{name}_ready"] = recorder.now()
                waited = wait_until_nginx_routes_to(
                    stack, web.port, after=marks[f"roll_{name}_ready"], recorder=recorder
                )
                recorder.event(f"nginx sends requests to {name} again after {waited:.1f} s")
            recorder.stopping.wait(2)

        # 4. Redis stopped for a while, then started again.
        with recorder.in_phase("4 redis stopped"):
            marks["redis_stop"] = recorder.now()
            stack.stop_redis()
            recorder.event("Redis stopped")
            wait_for(
                lambda: all(
                    any("cache" in p.degraded for p in recorder.probes_of(web.name, marks["redis_stop"], 1e9))
                    for web in stack.webs
                ),
                "the cache reported degraded by both instances",
                timeout=20,
            )
            recorder.event("both instances report the cache as degraded")
            recorder.stopping.wait(max(0.0, marks["redis_stop"] + REDIS_OUTAGE - recorder.now()))
            marks["redis_start"] = recorder.now()
            stack.start_redis()
            recorder.event("Redis started again")
            wait_for(
                lambda: all(
                    (probes := recorder.probes_of(web.name, recorder.now() - 1.5, 1e9))
                    and all(p.status == 200 and not p.degraded for p in probes)
                    for web in stack.webs
                ),
                "both instances ready with the cache back",
                timeout=40,
            )
            marks["redis_back"] = recorder.now()
            recorder.event("both instances report the cache as working again")

        recorder.stopping.wait(3)
    finally:
        recorder.stopping.set()
        for thread in threads:
            thread.join(timeout=150)
        recorder.event("traffic stopped")

    report = build_report(stack, recorder, marks)
    print_report(report)
    if os.environ.get("ATRIUM_HA_REPORT"):
        Path(os.environ["ATRIUM_HA_REPORT"]).write_text(json.dumps(report, indent=2), encoding="utf-8")
    check_report(report)


def job_running(stack: HAStack) -> bool:
    rows = stack.query(2, "SELECT COUNT(*) FROM jobs_jobrun WHERE job = %s AND outcome = 'running'", SLEEP_JOB)
    return bool(rows[0][0])


def wait_until_nginx_routes_to(stack: HAStack, port: int, *, after: float, recorder: Recorder) -> float:
    """Wait until nginx has passed a request to the instance on `port` and had a 2xx/3xx from it (access log)."""
    upstream = f"127.0.0.1:{port}"
    wall_after = time.time() - (recorder.now() - after) - 1

    def routed() -> bool:
        for entry in reversed(stack.access_log_entries()):
            if _log_time(entry) < wall_after:
                return False
            last_upstream = entry.get("upstream", "").split(", ")[-1]
            last_status = entry.get("upstream_status", "").split(", ")[-1]
            if last_upstream == upstream and last_status[:1] in ("2", "3"):
                return True
        return False

    return wait_for(routed, f"nginx routing requests to {upstream}", timeout=40, interval=0.3)


def _log_time(entry: dict[str, Any]) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat(entry["time"]).timestamp()
    except (KeyError, ValueError):
        return 0.0


# ---------------------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------------------
def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 3)


def transitions(probes: list[Probe]) -> list[tuple[float, str]]:
    changes: list[tuple[float, str]] = []
    for probe in probes:
        if not changes or changes[-1][1] != probe.state:
            changes.append((probe.at, probe.state))
    return changes


def backend_transitions(backend: list[tuple[float, dict[str, str]]]) -> list[tuple[float, str]]:
    changes: list[tuple[float, str]] = []
    for at, states in backend:
        text = " ".join(f"{name}={states.get(name, '?')}" for name in ("db1", "db2", "db3"))
        if not changes or changes[-1][1] != text:
            changes.append((at, text))
    return changes


def nginx_retries(stack: HAStack, recorder: Recorder) -> list[dict[str, Any]]:
    """Requests nginx passed to a second instance, with what the first one did (from its JSON access log)."""
    started_wall = time.time() - recorder.now()
    retried = []
    for entry in stack.access_log_entries():
        if ", " in str(entry.get("upstream", "")):
            # nginx's $time_iso8601 has whole seconds: the retry happened within the second after `at`, and it
            # follows its cause (a kill), so it is counted in the phase in force at the end of that second.
            at = round(_log_time(entry) - started_wall, 1)
            retried.append(
                {
                    "at": at,
                    "phase": recorder.phase_at(at + 0.99),
                    "method": entry.get("method"),
                    "uri": entry.get("uri"),
                    "status": entry.get("status"),
                    "upstreams": entry.get("upstream"),
                    "upstream_statuses": entry.get("upstream_status"),
                }
            )
    return retried


def deadlock_retries(stack: HAStack) -> int:
    """Transactions the application retried after a Galera/InnoDB conflict (core.services logs each one)."""
    return sum(web.log.read_text(errors="replace").count("Transaction conflict (") for web in stack.webs)


def build_report(stack: HAStack, recorder: Recorder, marks: dict[str, float]) -> dict[str, Any]:
    outcomes = list(recorder.outcomes)
    phases = ["warm-up", *[p["phase"] for p in recorder.phases], "between phases"]
    per_phase = []
    for phase in phases:
        chosen = [o for o in outcomes if o.phase == phase]
        if not chosen:
            continue
        pages = [o for o in chosen if o.kind == "page"]
        writes = [o for o in chosen if o.kind == "write"]
        per_phase.append(
            {
                "phase": phase,
                "requests": len(chosen),
                "pages": len(pages),
                "writes": len(writes),
                "errors": sum(not o.ok for o in chosen),
                "client_retries": sum(bool(o.recovered) for o in chosen),
                "failures": sum(o.failed for o in chosen),
                "p50_ms": round(1000 * percentile([o.duration for o in chosen], 0.5)),
                "p95_ms": round(1000 * percentile([o.duration for o in chosen], 0.95)),
                "max_ms": round(1000 * max(o.duration for o in chosen)),
            }
        )
    errors = [asdict(o) for o in outcomes if not o.ok]
    failures = [asdict(o) for o in outcomes if o.failed]

    # Writes: every acknowledged number must be on every node, read from each node directly.
    present: dict[str, Any] = {}
    duplicates: dict[str, list[str]] = {}
    for node in stack.cluster.nodes:
        rows = stack.query(
            node.number,
            "SELECT label, COUNT(*) FROM navigation_menuitem WHERE label LIKE %s GROUP BY label",
            "ha-write-%",
        )
        numbers = {int(label.rsplit("-", 1)[1]) for label, _ in rows}
        present[node.name] = numbers
        duplicates[node.name] = [label for label, count in rows if count > 1]
    acked = set(recorder.acked)
    writes = {
        "attempted": sum(o.kind == "write" for o in outcomes),
        "acknowledged": len(acked),
        **{f"present_on_{name}": len(numbers & acked) for name, numbers in present.items()},
        "missing": {name: sorted(acked - numbers) for name, numbers in present.items()},
        "unacknowledged_but_present": sorted(set.union(*present.values()) - acked),
        "duplicates": duplicates,
        "nodes_agree": len({frozenset(numbers) for numbers in present.values()}) == 1,
    }

    # Job runs: exactly one per tick (the runs recorded by the runner processes of that tick).
    runs = stack.query(1, "SELECT pid, outcome, duration_seconds FROM jobs_jobrun WHERE job = %s", SLEEP_JOB)
    runs_by_pid: dict[int, list[str]] = defaultdict(list)
    durations: dict[int, float] = {}
    for pid, outcome, duration in runs:
        runs_by_pid[int(pid)].append(str(outcome))
        durations[int(pid)] = float(duration or 0)
    ticks = []
    for tick in recorder.ticks:
        tick_runs = [outcome for pid in tick.pids for outcome in runs_by_pid.get(pid, [])]
        ticks.append(
            {
                "tick": tick.number,
                "at": round(tick.at, 1),
                "phase": tick.phase,
                "runs": len(tick_runs),
                "outcomes": tick_runs,
                "run_seconds": max((durations.get(pid, 0.0) for pid in tick.pids), default=0.0),
                "exit_codes": tick.exit_codes,
                "error": tick.error,
                "outputs": tick.outputs if len(tick_runs) != 1 or tick.error or any(tick.exit_codes) else [],
            }
        )
    tick_pids = {pid for tick in recorder.ticks for pid in tick.pids}
    stray_runs = [pid for pid in runs_by_pid if pid not in tick_pids]

    readiness = {web.name: transitions([p for p in recorder.probes if p.instance == web.name]) for web in stack.webs}
    readiness_details = {
        web.name: sorted(
            {p.detail for p in recorder.probes if p.instance == web.name and p.detail and p.status is not None}
        )
        for web in stack.webs
    }
    return {
        "duration_s": recorder.now(),
        "stack_start_s": stack.timings,
        "marks": marks,
        "events": recorder.events,
        "phases": recorder.phases,
        "per_phase": per_phase,
        "totals": {
            "requests": len(outcomes),
            "errors": len(errors),
            "client_retries": sum(bool(o.recovered) for o in outcomes),
            "failures": len(failures),
            "by_status": dict(Counter(str(o.status) for o in outcomes)),
        },
        "errors": errors,
        "failures": failures,
        "nginx_retries": nginx_retries(stack, recorder),
        "deadlock_retries": deadlock_retries(stack),
        "writes": writes,
        "ticks": ticks,
        "stray_runs": stray_runs,
        "readiness": readiness,
        "readiness_details": readiness_details,
        "haproxy": backend_transitions(recorder.backend),
        "probes": [asdict(p) for p in recorder.probes],
    }


def print_report(report: dict[str, Any]) -> None:
    out = ["", "=" * 100, "HA failover test (issue 10)", "=" * 100]
    out.append(f"duration {report['duration_s']:.0f} s; stack start-up {report['stack_start_s']}")
    out.append("")
    out.append(
        f"{'phase':<24}{'requests':>9}{'pages':>7}{'writes':>7}{'errors':>7}{'retried':>8}{'failed':>7}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}"
    )
    for row in report["per_phase"]:
        out.append(
            f"{row['phase']:<24}{row['requests']:>9}{row['pages']:>7}{row['writes']:>7}{row['errors']:>7}"
            f"{row['client_retries']:>8}{row['failures']:>7}{row['p50_ms']:>8}{row['p95_ms']:>8}{row['max_ms']:>8}"
        )
    totals = report["totals"]
    out.append(
        f"{'all':<24}{totals['requests']:>9}{'':>14}{totals['errors']:>7}{totals['client_retries']:>8}"
        f"{totals['failures']:>7}   statuses {totals['by_status']}"
    )
    out.append(
        "(errors: answered with an error or not at all; retried: of those, completed by a safe client retry;"
        " failed: user actions that failed)"
    )
    out.append("")
    out.append(
        f"requests answered with an error or not at all: {len(report['errors'])}; "
        f"user actions that failed: {len(report['failures'])}"
    )
    for error in report["errors"]:
        outcome = "FAILED" if not error["recovered"] else f"then {error['recovered']}"
        out.append(
            f"  {error['at']:7.2f}s  {error['phase']:<22} {error['who']:<9} {error['method']:<4} "
            f"/{error['url']:<24} status={error['status']} {error['error']}  -> {outcome}"
        )
    out.append(f"hidden by nginx passing the request to the other instance: {len(report['nginx_retries'])}")
    for retry in report["nginx_retries"]:
        out.append(
            f"  ~{retry['at']:6.0f}s  {retry['phase']:<22} {retry['method']:<4} {retry['uri']:<24} -> {retry['status']}"
            f"  (upstream statuses {retry['upstream_statuses']})"
        )
    out.append(f"hidden by the application's deadlock retries: {report['deadlock_retries']}")
    writes = report["writes"]
    out.append("")
    out.append(
        f"writes: {writes['attempted']} attempted, {writes['acknowledged']} acknowledged; present on "
        + ", ".join(f"{k[len('present_on_') :]} {v}" for k, v in writes.items() if k.startswith("present_on_"))
        + f"; unacknowledged but present {len(writes['unacknowledged_but_present'])}"
        + f"; nodes agree {writes['nodes_agree']}"
    )
    ticks = report["ticks"]
    out.append(
        f"job ticks: {len(ticks)} ({TICK:g} s apart); runs per tick {dict(Counter(t['runs'] for t in ticks))}; "
        f"stray runs {len(report['stray_runs'])}; run seconds {[t['run_seconds'] for t in ticks]}"
    )
    for tick in ticks:
        if tick["runs"] != 1 or tick["error"]:
            out.append(f"  tick {tick['tick']} at {tick['at']}s ({tick['phase']}): {tick['runs']} runs {tick}")
    out.append("")
    out.append("readiness (/-/health/ready of each instance, polled directly), transitions:")
    for name, changes in report["readiness"].items():
        out.append(f"  {name}: " + "  ->  ".join(f"{at:.1f}s {state}" for at, state in changes))
        for detail in report["readiness_details"][name]:
            out.append(f"      detail seen: {detail[:160]}")
    out.append("HAProxy (stats page), transitions:")
    out.extend(f"  {at:7.1f}s {states}" for at, states in report["haproxy"])
    out.append("events:")
    out.extend(f"  {at:7.2f}s {text}" for at, text in report["events"])
    out.append("=" * 100)
    print("\n".join(out), flush=True)


def check_report(report: dict[str, Any]) -> None:
    problems = []
    if report["failures"]:
        problems.append(f"{len(report['failures'])} user requests failed (listed above)")
    writes = report["writes"]
    for name, missing in writes["missing"].items():
        if missing:
            problems.append(f"acknowledged writes missing on {name}: {missing[:20]}")
    if any(writes["duplicates"].values()):
        problems.append(f"duplicated writes: {writes['duplicates']}")
    if not writes["nodes_agree"]:
        problems.append("the three nodes do not hold the same writes")
    if writes["acknowledged"] < 50:
        problems.append(f"only {writes['acknowledged']} writes were acknowledged: the test did not write enough")
    wrong_ticks = [t for t in report["ticks"] if t["runs"] != 1 or t["outcomes"] != ["success"]]
    if wrong_ticks:
        problems.append(f"ticks without exactly one successful run: {[(t['tick'], t['runs']) for t in wrong_ticks]}")
        if any(t["outcomes"] == ["running"] for t in report["ticks"]):
            problems.append(
                "  a run was left 'running' and its lease held: its runner lost its database connection with the "
                "Galera node and could not record the outcome nor release the lease (docs/reliability.md, "
                "jobs.runner)"
            )
    if report["stray_runs"]:
        problems.append(f"job runs from no tick: {report['stray_runs']}")
    if len(report["ticks"]) < 8:
        problems.append(f"only {len(report['ticks'])} schedule ticks")
    problems += readiness_problems(report)
    assert not problems, "\n".join(problems)


def readiness_problems(report: dict[str, Any]) -> list[str]:
    """Each failure was visible in /-/health/ready (or, for a dead instance, by its absence) while it lasted."""
    marks = report["marks"]
    probes = [Probe(**p) for p in report["probes"]]

    def of(instance: str, start: float, end: float) -> list[Probe]:
        return [p for p in probes if p.instance == instance and start <= p.at <= end]

    def answered(instance: str, start: float, end: float) -> list[Probe]:
        return [p for p in of(instance, start, end) if p.status is not None]

    def stayed_ready(instance: str, start: float, end: float) -> bool:
        return not any(p.down or p.status not in (None, 200) for p in of(instance, start, end))

    problems = []
    # 1. Galera node lost: HAProxy hides it from the application (connections move to db2), so the instances stay
    # ready, and their readiness detail says the cluster is down to 2 nodes from eviction until the rejoin.
    for instance in ("web-a", "web-b"):
        during = of(instance, marks["galera_kill"], marks["galera_restart"])
        if not any(p.cluster_size == "2" for p in during):
            problems.append(f"{instance}: readiness never showed the cluster at 2 nodes while n1 was down")
        after = answered(instance, marks["galera_back"], marks["web_kill"])
        if not after or any(p.cluster_size != "3" for p in after[-2:]):
            problems.append(f"{instance}: readiness does not show 3 nodes again after n1 rejoined")
    # 2. web-a killed: its readiness is unreachable until the restart; web-b stays ready all along.
    down = of("web-a", marks["web_kill"] + 0.5, marks["web_restart"])
    if not down or not all(p.down for p in down):
        problems.append(f"web-a answered readiness while killed: {[p.state for p in down][:5]}")
    if not stayed_ready("web-b", marks["web_kill"], marks["web_back"]):
        problems.append("web-b was not ready while web-a was down")
    # 3. rolling deploy: each instance is out (unreachable, or 503 while starting) during its own restart, and the
    # other stays ready meanwhile.
    for instance in ("web-a", "web-b"):
        own = of(instance, marks[f"roll_{instance}_stop"], marks[f"roll_{instance}_ready"])
        if not any(p.status != 200 for p in own):
            problems.append(f"{instance}: readiness never showed it out during its own restart")
    if not stayed_ready("web-b", marks["roll_web-a_stop"], marks["roll_web-a_ready"]):
        problems.append("web-b was not ready while web-a restarted")
    if not stayed_ready("web-a", marks["roll_web-b_stop"], marks["roll_web-b_ready"]):
        problems.append("web-a was not ready while web-b restarted")
    # 4. Redis down: both instances stay ready (the cache is not required) and say the cache is degraded.
    for instance in ("web-a", "web-b"):
        during = answered(instance, marks["redis_stop"] + 2, marks["redis_start"])
        if not during or not all("cache" in p.degraded for p in during):
            problems.append(f"{instance}: the cache was not reported degraded throughout the Redis outage")
        if any(p.status != 200 for p in during):
            problems.append(f"{instance}: not ready during the Redis outage (the cache is not required)")
    return problems
