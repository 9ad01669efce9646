"""The chat benchmark's arithmetic: the cost by position in a conversation."""

from __future__ import annotations

from tools.bench_chat import by_position


def test_positions_are_medians_of_their_turns() -> None:
    times = [float(t) for t in range(1, 81)]  # turn n took n ms
    assert by_position([times]) == {"turns 1-10": 5.5, "turn ~5": 5.0, "turns 36-44": 40.0,
                                    "turns 76-80": 78.0}
    # several conversations: the median over the turns at those positions of all of them
    slower = [t + 100 for t in times]
    assert by_position([times, slower, times])["turn ~5"] == 6.0  # 3,3,4,4,5,5,6,6,7,7,103…107
    assert by_position([times, slower])["turns 76-80"] == (80.0 + 176.0) / 2

