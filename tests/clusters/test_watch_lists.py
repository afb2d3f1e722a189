"""The watch threads' lists and Python's cyclic collector (clusters/watch.py, _CollectorPause)."""

import gc
from contextlib import ExitStack

from clusters.watch import _CollectorPause


def test_the_collector_stays_off_until_the_last_of_lists_in_flight_ends():
    """On a resync every kind lists at once, each in its own thread: the first to end must not turn the collector
    back on while the pods are still arriving (1-2 s a pass at 50,000 pods, bench/bench_watch.py)."""
    assert gc.isenabled()
    pause, frozen_before = _CollectorPause(), gc.get_freeze_count()
    try:
        with ExitStack() as pods:
            with pause.during_list():  # the services' list starts first and ends first
                pods.enter_context(pause.during_list())
                assert not gc.isenabled()
            assert not gc.isenabled(), "the pods' list is still in flight"
            pause.big_list()
        assert gc.isenabled()
        assert gc.get_freeze_count() > frozen_before, "what the big list left is moved out of the collector's sight"
    finally:
        gc.enable()
        gc.unfreeze()


def test_small_lists_collect_nothing_frozen():
    pause = _CollectorPause()
    gc.unfreeze()
    with pause.during_list():
        pass
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_the_lists_are_settled_only_once_the_collection_after_them_is_done(monkeypatch):
    """A resync timed from `lists_settled` must not pay for the collection that ends the lists before it."""
    import clusters.watch as watch

    pause, seen_while_collecting = _CollectorPause(), []
    collect = gc.collect
    monkeypatch.setattr(watch.gc, "collect", lambda *a: seen_while_collecting.append(pause.settled()) or collect(*a))
    try:
        assert pause.settled()
        with pause.during_list():
            assert not pause.settled(), "a list is in flight"
            pause.big_list()
        assert seen_while_collecting == [False], "settled while its collection was still running"
        assert pause.settled()
    finally:
        gc.unfreeze()
