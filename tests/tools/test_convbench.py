"""The convbench wrapper's table: overall first, then tags from worst to best."""

from tools.convbench import summary_table


def _counts(turns: int, total: int, convs: int = 0, conv_total: int = 1) -> dict:
    return {"turns_fully_passed": turns, "turns_total": total,
            "conversations_fully_passed": convs, "conversations_total": conv_total}


def test_table_lists_the_worst_tag_first():
    summary = {**_counts(7, 10, 1, 3), "by_tag": {"typo": _counts(4, 4, 1, 1),
                                                   "cheaper": _counts(1, 4, 0, 2),
                                                   "home": _counts(2, 4)}}
    lines = summary_table(summary).splitlines()
    assert lines[2] == "| **all** | 7/10 (70%) | 1/3 |"
    assert [line.split(" | ")[0] for line in lines[3:]] == ["| cheaper", "| home", "| typo"]
