"""The queue's rules: issuing, calling, serving, the ticket life cycle, numbering, the event log, set-up,
appointments, dossiers and ratings. Start here to learn how the queue behaves.
"""
