"""A stateful fake CosDoc (Integrasjon, mutual TLS) for tests, demos and users; needs the mock
extra (``digidialog-cosdoc[mock]``: its certificates need cryptography).

- :mod:`.server`: :class:`CosDocMock`, checking each Utfor as CosDoc would and answering it;
- :mod:`.state`: what the fake holds (PasientNr, Avtale, Hendelse) and the staff actions;
- :mod:`.answers`: each command's answer; :mod:`.export`: the streamed nightly export;
- :mod:`.certs`: a throwaway CA, server and client certificate for every run;
- :mod:`.harness`: :class:`CosDocHarness`, the control API every vendor mock offers;
- :mod:`.plugin`: what the ``digidialog.mocks`` entry point ``cosdoc`` names.
"""

from digidialog_cosdoc.mock.harness import CosDocHarness
from digidialog_cosdoc.mock.server import CosDocMock

__all__ = ["CosDocHarness", "CosDocMock"]
