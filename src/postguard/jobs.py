"""Every periodic job of a server process, in one list (``JOBS``).

``create_app``'s lifespan starts them (``start``) in each worker and cancels them when the worker
stops. A job names its interval (a setting, or a fixed number of seconds) and what it runs on the
platform. A step runs in a worker thread (it may wait on the database), or on the event loop when
it only touches this worker's memory and must not race the requests that fill it. A failing step
is logged and retried at the next interval: it never stops the job, the other jobs or the server.
A job without a ``floor`` is off when its interval is 0. docs/configuration.md lists the jobs
(a test keeps that list complete).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from postguard.logging import get_logger
from postguard.platform import Platform

log = get_logger("postguard.jobs")

Step = Callable[[], object]
REPEAT_LOG_SECONDS = 60.0  # a job that keeps failing is logged at most this often


@dataclass(frozen=True)
class Job:
    name: str
    every: str | float
    """The setting that holds the interval in seconds, or the interval itself."""
    start: Callable[[Platform], Step]
    """Builds the job's step when the server starts (a step may keep state from run to run)."""
    on_loop: bool = False
    """The step runs on the event loop (quick, in-memory work), not in a worker thread."""
    at_start: bool = False
    """The first run is at once, not after the first interval."""
    floor: float | None = None
    """The shortest interval; a job with a floor always runs (its setting's 0 means: at the floor)."""
    stop: Callable[[Platform], None] | None = None
    """Called when the server stops."""

    def interval(self, settings) -> float:
        seconds = float(getattr(settings, self.every) if isinstance(self.every, str) else self.every)
        return max(self.floor, seconds) if self.floor is not None else seconds


def _checkpoints(p: Platform) -> Step:
    """Sign a checkpoint of the access log while entries arrive; each new one goes to the configured
    witnesses to be co-signed (off the append path: a failing witness is counted and retried on the
    next run, never blocks logging)."""
    witnessed = -1

    def step() -> None:
        nonlocal witnessed
        cp = p.audit.checkpoint()
        if cp is not None and p.settings.audit_witnesses and cp.size != witnessed:
            results = p.witnessing.submit()
            if all(r.startswith("ok") for r in results.values()):
                witnessed = cp.size  # else submitted again on the next run
    return step


def _forget_kept(p: Platform) -> Step:
    """Forget the lookup bodies kept long enough (on the event loop, which alone adds them)."""
    def step() -> None:
        if "intel" in p.__dict__:
            p.intel.forget_kept()
    return step


def _flush_lookups(p: Platform) -> Step:
    """Write the lookup counts added up in memory."""
    def step() -> None:
        if "intel" in p.__dict__:
            p.intel.flush_lookups()
    return step


def _known_refresh(p: Platform) -> Step:
    """Keep this worker's index of known indicators fresh off the request path: once it has loaded,
    lookups leave refreshing to this job and never wait on the database."""
    known = p.intel.known

    def step() -> None:
        known.refresh()
        known.managed = True
    return step


def _known_release(p: Platform) -> None:
    p.intel.known.managed = False  # lookups refresh the index themselves again


JOBS: tuple[Job, ...] = (
    Job("access-log checkpoint", 1.0, _checkpoints),
    Job("kept-lookup expiry", 1.0, _forget_kept, on_loop=True),
    Job("lookup-count flush", 1.0, _flush_lookups),
    Job("known-indicator refresh", "intel_index_refresh_seconds", _known_refresh, at_start=True, floor=0.2,
        stop=_known_release),
    Job("anomaly scan", "anomaly_scan_interval_seconds", lambda p: lambda: p.leaks.scan_all()),
    Job("intelligence regrade", "intel_regrade_interval_seconds", lambda p: lambda: p.intel.regrade_all()),
    Job("lookalike brands refresh", "lookalike_refresh_seconds", lambda p: lambda: p.intel.brands.refresh(),
        at_start=True),
    Job("blocklist reconcile", "blocklist_reconcile_interval_seconds", lambda p: lambda: p.blocklist.reconcile()),
    Job("masked-call end", "masked_call_end_interval_seconds", lambda p: lambda: p.calls.end_expired()),
    Job("message-feedback purge", "message_feedback_purge_interval_seconds",
        lambda p: lambda: p.message_feedback.purge()),
)


async def run(job: Job, platform: Platform, seconds: float) -> None:
    """Run ``job`` every ``seconds`` until cancelled; each failed run is counted
    (``postguard_jobs_failures_total``, by the job's name)."""
    failures = platform.meter.counter("postguard_jobs_failures", "Failed runs of a periodic job", ("name",))
    step: Step | None = None
    failing_since: float | None = None
    logged = 0.0
    try:
        if not job.at_start:
            await asyncio.sleep(seconds)
        while True:
            try:
                if step is None:
                    step = job.start(platform)
                if job.on_loop:
                    step()
                else:
                    await run_in_threadpool(step)
            except Exception:
                failures.inc(job.name)
                now = time.monotonic()
                if failing_since is None:
                    failing_since = logged = now
                    log.exception(f"{job.name} failed", job=job.name)
                elif now - logged >= REPEAT_LOG_SECONDS:
                    logged = now
                    log.exception(f"{job.name} still failing", job=job.name, since_seconds=round(now - failing_since))
            else:
                if failing_since is not None:
                    log.info(f"{job.name} recovered", job=job.name,
                             after_seconds=round(time.monotonic() - failing_since))
                    failing_since = None
            await asyncio.sleep(seconds)
    finally:
        if job.stop is not None and step is not None:
            job.stop(platform)


def start(platform: Platform, jobs: Iterable[Job] = JOBS) -> list[asyncio.Task]:
    """Start every job that is on (on the running event loop); cancel the tasks to stop them."""
    tasks = []
    for job in jobs:
        seconds = job.interval(platform.settings)
        if seconds > 0:
            tasks.append(asyncio.create_task(run(job, platform, seconds), name=f"job: {job.name}"))
    return tasks
