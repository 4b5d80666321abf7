"""Read models folded from the event log after the commit: report facts and rollups, the live view. Nothing here
is written by an action.
"""
