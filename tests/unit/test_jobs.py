"""The server's periodic jobs (``postguard.jobs``): one list, each job on its own interval; a failing
step is logged and retried, never fatal to its job, the other jobs or the server."""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from postguard import jobs
from postguard.metrics import Meter
from postguard.settings import Settings


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def exception(self, event: str, **_) -> None:
        self.events.append(("exception", event))

    def info(self, event: str, **_) -> None:
        self.events.append(("info", event))


def counting(runs: dict, name: str, *, failures: int = 0):
    def start(_platform):
        def step():
            runs[name] += 1
            if runs[name] <= failures:
                raise RuntimeError("the database is away")
        return step
    return start


def never(_platform):
    raise AssertionError("a job that is off never starts")


def run_until(table, platform, done, timeout=10.0):
    """Start ``table``'s jobs on a fresh event loop (in a thread of its own: another test may have left
    a loop running in this one) until ``done()``, then cancel them; returns their tasks."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _run_until(table, platform, done, timeout)).result()


async def _run_until(table, platform, done, timeout):
    tasks = jobs.start(platform, table)
    deadline = time.monotonic() + timeout
    try:
        while not done():
            assert time.monotonic() < deadline, "the jobs did not run"
            await asyncio.sleep(0.01)
        assert not any(t.done() for t in tasks), "a job stopped"
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return tasks


@pytest.mark.parametrize("on_loop", [False, True], ids=["worker-thread", "event-loop"])
def test_a_failing_job_is_logged_and_retried_and_the_others_go_on(monkeypatch, on_loop):
    log = Recorder()
    monkeypatch.setattr(jobs, "log", log)
    monkeypatch.setattr(jobs, "REPEAT_LOG_SECONDS", 0.0)  # log every repeated failure here
    runs = {"flaky": 0, "steady": 0}
    platform = SimpleNamespace(settings=SimpleNamespace(flaky_seconds=0.01, off_seconds=0), meter=Meter())
    stopped = []
    table = [jobs.Job("flaky", "flaky_seconds", counting(runs, "flaky", failures=3), on_loop=on_loop,
                      stop=stopped.append),
             jobs.Job("steady", 0.01, counting(runs, "steady")),
             jobs.Job("off", "off_seconds", never)]
    tasks = run_until(table, platform, lambda: runs["flaky"] >= 6)
    assert len(tasks) == 2 and all(t.cancelled() for t in tasks)  # cancelled, not dead of an exception
    assert log.events[:4] == [("exception", "flaky failed"), ("exception", "flaky still failing"),
                              ("exception", "flaky still failing"), ("info", "flaky recovered")]
    assert len(log.events) == 4  # nothing more once it works again
    assert runs["steady"] >= 3 and stopped == [platform]


def test_a_job_that_keeps_failing_is_logged_once_a_minute_not_at_every_run(monkeypatch):
    log = Recorder()
    monkeypatch.setattr(jobs, "log", log)
    runs = {"broken": 0}
    table = [jobs.Job("broken", 0.005, counting(runs, "broken", failures=10**9))]
    run_until(table, SimpleNamespace(settings=None, meter=Meter()), lambda: runs["broken"] >= 20)
    assert log.events == [("exception", "broken failed")]


def test_a_job_whose_start_fails_is_retried(monkeypatch):
    log = Recorder()
    monkeypatch.setattr(jobs, "log", log)
    attempts, runs = [], {"late": 0}

    def start(platform):
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("not yet")
        return counting(runs, "late")(platform)

    stopped = []
    table = [jobs.Job("late", 0.01, start, at_start=True, stop=stopped.append)]
    run_until(table, SimpleNamespace(settings=None, meter=Meter()), lambda: runs["late"] >= 2)
    assert len(attempts) == 3 and log.events == [("exception", "late failed"), ("info", "late recovered")]
    assert len(stopped) == 1


def test_intervals_come_from_the_settings_and_a_floor_keeps_a_job_on():
    s = Settings(anomaly_scan_interval_seconds=0, intel_index_refresh_seconds=0, masked_call_end_interval_seconds=7)
    by_name = {j.name: j for j in jobs.JOBS}
    assert len(by_name) == len(jobs.JOBS)
    assert by_name["anomaly scan"].interval(s) == 0  # off
    assert by_name["known-indicator refresh"].interval(s) == 0.2  # never off: at its floor
    assert by_name["masked-call end"].interval(s) == 7
    assert by_name["access-log checkpoint"].interval(s) == 1.0
    for job in jobs.JOBS:  # every named setting exists
        assert job.interval(Settings()) > 0, job.name
