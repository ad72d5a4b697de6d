"""The criteria engine: folds activity into a recipient's progress and says which awards are due.

Pure functions, no I/O: the aggregator, `cairn criteria check` and the tests all run this code.
A recipient's Progress keeps recent activities by event id, so a duplicate counts once, a
void takes its activity back out, and every figure is recomputed in event time whatever order
the events arrived in. Every criterion is monotone in the set of activities (more activity can
only help), which is what makes incremental evaluation agree with evaluating the whole history.

Durations are whole seconds and hours are compared exactly (three shifts of 3h20 are 10 hours).
A person's hours are the union of the time their matching activities cover, so overlapping
shifts never count an hour twice; counts count each activity. Calendar criteria (years, ISO
weeks, days) count in the badge class's time zone, whatever offset an event was written in.

The ids kept stay bounded: past KEEP_BY_ID activities, the oldest are compacted (their ids
forgotten) and only activities at the same instant with the same fields are folded together,
so no activity moves in time and a compacted history earns what the whole history earns,
rolling windows included. Everything before the compaction point is then closed: an activity
from before it cannot be told from a duplicate, so it is refused (BeforeCompactedHistory)
rather than risk counting it twice.

Modules: progress (recording and compacting activity), evaluation (leaves and combinators,
each leaf a run fed in event time), awards (settling: awards due, questions, evidence), report
(the progress report), standing (the incremental engine the aggregator runs: the runs kept
between events, late events and voids recounted on the slow path, the table value's format).
"""

from cairn.domain.criteria.awards import Settlement, awards_for_history, evidence, needs_check, settle
from cairn.domain.criteria.evaluation import HELD, Figure, Leaf, Result, evaluate, zone_of
from cairn.domain.criteria.progress import (
    KEEP_BY_ID,
    ActivityRecord,
    BeforeCompactedHistory,
    Progress,
    record_activity,
)
from cairn.domain.criteria.report import progress_report
from cairn.domain.criteria.standing import Standing, settle_standing

__all__ = [
    "HELD",
    "KEEP_BY_ID",
    "ActivityRecord",
    "BeforeCompactedHistory",
    "Figure",
    "Leaf",
    "Progress",
    "Result",
    "Settlement",
    "Standing",
    "awards_for_history",
    "evaluate",
    "evidence",
    "needs_check",
    "progress_report",
    "record_activity",
    "settle",
    "settle_standing",
    "zone_of",
]
