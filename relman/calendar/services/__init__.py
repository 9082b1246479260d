"""The calendar's services, one module per topic; import from the module, nothing is re-exported.

windows   release windows and their occurrences
freezes   blackouts and their emergency overrides
scheduling  placing releases into window occurrences (or outside, as an emergency)
conflicts   conflict detection over the database (built on the pure `calendar.conflicts`)
plan      the yearly window plan (seed 002)
access    who may manage the calendar
"""
