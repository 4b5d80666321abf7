"""Estimates, wait prediction, staffing advice, alerts and the office simulator: figures derived from the queue
and its projections.
"""
