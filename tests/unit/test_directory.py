"""The per-worker directory of registry answers: what it keeps, when it forgets, and the signals
that tell it (a counter file shared by processes, PostgreSQL's NOTIFY when it is away)."""

from __future__ import annotations

import subprocess
import sys
import time

from sqlalchemy import create_engine

from postguard.callerid.directory import MISSING, Directory, FileSignal, PostgresSignal, Signal


def test_answers_are_kept_until_the_version_moves_and_a_load_during_a_change_is_not_kept():
    sig = Signal()
    d = Directory(sig, max_entries=3)
    loads = []

    def load(value):
        def run():
            loads.append(value)
            return value
        return run

    assert d.get(b"a", load("A")) == "A" and d.get(b"a", load("A2")) == "A"
    assert d.get(b"none", load(None)) is None and d.get(b"none", load("x")) is None  # "not in the registry" kept too
    assert loads == ["A", None]
    sig.committed()
    assert d.peek(b"a") is MISSING
    assert d.get(b"a", load("B")) == "B"

    def changing():
        sig.committed()  # a commit lands while the database is read
        return "stale"

    assert d.get(b"c", changing) == "stale"
    assert d.peek(b"c") is MISSING
    for k in (b"1", b"2", b"3", b"4"):
        d.get(k, load(k))
    assert d.peek(b"1") is MISSING and d.peek(b"4") == b"4"  # the oldest goes first


def test_a_counter_file_is_shared_by_processes(tmp_path):
    path = tmp_path / "postguard.db-registry"
    mine = FileSignal(path)
    d = Directory(mine)
    d.get(b"k", lambda: "kept")
    before = mine.current()
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                    "from postguard.callerid.directory import FileSignal; FileSignal(Path(sys.argv[1])).committed()",
                    str(path)], check=True)
    assert mine.current() == before + 1
    assert d.peek(b"k") is MISSING
    mine.committed()
    assert FileSignal(path).current() == before + 2
    mine.close()


def test_without_a_listening_connection_nothing_is_kept():
    sig = PostgresSignal(create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none"), retry_seconds=0.05)
    try:
        d = Directory(sig)
        calls = []
        for _ in range(3):
            assert d.get(b"k", lambda: calls.append(1) or "row") == "row"
        time.sleep(0.2)  # the listener has tried (and failed) to connect meanwhile
        assert d.get(b"k", lambda: calls.append(1) or "row") == "row"
        assert len(calls) == 4 and sig.current() is None
    finally:
        sig.close()
    assert not sig._thread.is_alive()
