"""The EPJ side: the adapter contract, the plugin registry and shared SOAP plumbing.

Vendor adapters are separate distributions (``digidialog-gerica``, ...) that
register under the entry-point group ``digidialog.adapters``.
"""

from digidialog.adapters.contract import (
    Capabilities,
    ChangeBatch,
    CitizenMessage,
    CitizenRecord,
    DigitalStatusUpdate,
    EpjAdapter,
    EpjReceipt,
    VendorService,
)
from digidialog.adapters.registry import AdapterPlugin, AdapterSettings, PluginError

__all__ = [
    "AdapterPlugin",
    "AdapterSettings",
    "Capabilities",
    "ChangeBatch",
    "CitizenMessage",
    "CitizenRecord",
    "DigitalStatusUpdate",
    "EpjAdapter",
    "EpjReceipt",
    "PluginError",
    "VendorService",
]
