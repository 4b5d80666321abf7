"""The queue: services, counters, tickets, their life cycle, the event log and statistics. No HTTP here."""
