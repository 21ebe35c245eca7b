"""When background XLA compiles start: idle time, or enough plain-graph time."""

import threading
import time

import pytest

from seqimportance.keras import _compile_policy as policy


@pytest.fixture(autouse=True)
def fast_idle(monkeypatch):
    assert policy.wait_for_background(timeout=120)  # other tests' compiles
    monkeypatch.setattr(policy, "IDLE_S", 0.05)
    yield
    assert policy.wait_for_background(timeout=30)


def _compile():
    started = threading.Event()
    return started, started.set


def test_worth_xla_by_rows_and_row_work():
    assert policy.worth_xla(1024, 1024)  # 2**20
    assert not policy.worth_xla(1023, 1024)


def test_compile_waits_while_calls_are_served():
    started, target = _compile()
    with policy.serving():
        policy.request(object(), target, spent_s=0.0)
        assert not started.wait(0.3)  # busy all along: nothing starts
    assert started.wait(10)  # idle: it starts


def test_compile_starts_at_once_after_enough_plain_graph_time():
    started, target = _compile()
    with policy.serving():
        policy.request(object(), target, spent_s=policy.XLA_AFTER_SECONDS)
        assert started.wait(10)


def test_hurry_starts_a_waiting_compile_once_the_time_is_spent():
    started, target = _compile()
    key = object()
    with policy.serving():
        policy.request(key, target, spent_s=0.1)
        policy.hurry(key, spent_s=policy.XLA_AFTER_SECONDS / 2)
        assert not started.wait(0.2)
        policy.hurry(key, spent_s=policy.XLA_AFTER_SECONDS)
        assert started.wait(10)


def test_calls_in_quick_succession_keep_the_compile_waiting():
    started, target = _compile()
    with policy.serving():
        policy.request(object(), target, spent_s=0.0)
    deadline = time.monotonic() + 0.4
    while time.monotonic() < deadline:  # gaps of 10 ms < IDLE_S between calls
        with policy.serving():
            time.sleep(0.01)
        time.sleep(0.01)
        assert not started.is_set()
    assert started.wait(10)


def test_wait_for_background_starts_waiting_compiles():
    started, target = _compile()
    with policy.serving():
        policy.request(object(), target, spent_s=0.0)
        assert policy.wait_for_background(timeout=10)  # while still serving
        assert started.is_set()


def test_exit_drops_compiles_not_started(monkeypatch):
    started, target = _compile()
    with policy.serving():
        policy.request(object(), target, spent_s=0.0)
        policy._at_exit()
    assert not started.wait(0.3)


def test_shape_compiles_request_once_from_the_second_call():
    compiles = policy.ShapeCompiles(threading.Lock())
    made, done = [], threading.Event()

    def make_compile():
        made.append(1)
        return done.set

    def call(seconds):
        compiles.plain_call("k", seconds, lambda key: False, make_compile, "t")

    with policy.serving():
        call(0.1)
        assert not made  # one call: nothing requested
        call(0.1)
        call(0.1)
        assert made == [1] and "k" in compiles.pending  # requested once, waiting
        assert not done.wait(0.2)
        call(policy.XLA_AFTER_SECONDS)  # enough plain-graph time: starts now
        assert done.wait(10)
    assert policy.wait_for_background(timeout=10)
    assert made == [1] and "k" not in compiles.pending
    assert compiles.calls["k"] == 4
    compiles.plain_call("k", 1.0, lambda key: True, make_compile, "t")
    assert made == [1]  # compiled already: nothing more
