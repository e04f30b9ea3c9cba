"""XML infrastructure shared by the Helsenorge side and the EPJ side; it knows neither.

- :mod:`digidialog.xml.safe`: the hardened parser, the one place bytes become a tree;
- :mod:`digidialog.xml.tree`: small helpers for reading (and making) element trees;
- :mod:`digidialog.xml.text`: writing XML as escaped text.
"""
