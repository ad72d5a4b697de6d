"""Where the aggregator works around faust-streaming 0.15.3, apart from the domain flow: a
producer flush that really drains (transport), the processed positions the worker keeps itself
(processed_positions), and the watchdog that acts on them (watchdog)."""
