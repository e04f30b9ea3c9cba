"""``digidialog demo``: a home-service citizen's week, played end to end on a bare machine.

:mod:`.stage` starts the three vendor mocks, the daemon (embedded default:
SQLite, queues in the store) and the portal simulator; :mod:`.journey` plays
the week against each vendor; :mod:`.report` shows what each side saw and
writes the messages exchanged to a folder.
"""
