"""What tests, the demo and users import to fake the outside world.

Light, usable with a plain install: :mod:`.samples` (sample portal messages),
:mod:`.harness` (the control API every vendor mock offers) and :mod:`.mocks`
(the ``digidialog.mocks`` entry-point group, which names the extra to install
when it is missing). Needing the ``mock`` extra (pytest, pytest-httpserver,
werkzeug): :mod:`.mockbase` (serving and fault injection), :mod:`.seed` (the
mocks' seed data, itself plain), :mod:`.pytest_plugin` (the ``mock_epj``
fixture), :mod:`.conformance` (the suite every adapter passes) and
:mod:`.services` (the real servers tests need).
"""
