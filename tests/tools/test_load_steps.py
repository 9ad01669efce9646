"""The step plan of `make loadtest`: per-step figures, and the stop after a step over 1 s."""

from __future__ import annotations

from tools.load_steps import WARM_S, StepLoad


def test_each_step_counts_its_own_turns_after_the_warm_up() -> None:
    load = StepLoad([10, 20], step_s=40)
    for i in range(30):  # step 0: 1 turn a second, 100 ms; the first WARM_S seconds left out
        load.record(i, 100.0, True)
    for i in range(30):  # step 1: 2 turns a second from 40 s on, 300 ms, one failed
        load.record(40 + i / 2, 300.0, i != 29)
    first, second = load.summary()
    assert first["turns"] == 30 - WARM_S and first["all_turns"] == 30
    assert first["turns_per_s"] == round((30 - WARM_S) / (40 - WARM_S), 2)
    assert (first["p50_ms"], first["p95_ms"], first["failed"]) == (100.0, 100.0, 0)
    assert second["failed"] == 1 and second["p95_ms"] == 300.0


def test_the_load_stops_after_a_step_whose_p95_is_over_a_second() -> None:
    load = StepLoad([10, 20, 40], step_s=20)
    for i in range(20):
        load.record(i, 400.0, True)
    assert load.users_at(25) == 20  # step 0 was within the limit
    for i in range(20):
        load.record(20 + i, 1500.0 if i % 2 else 500.0, True)
    assert load.users_at(45) is None  # step 1's p95 was 1.5 s
    assert StepLoad([5], step_s=10).users_at(11) is None  # after the last step
