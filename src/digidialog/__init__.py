"""digidialog: the bridge between municipal EPJ systems and Helsenorge."""

__version__ = "0.1.0"
