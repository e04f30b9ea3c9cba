"""digidialog adapter for the Profil EPJ.

This distribution is a placeholder in the workspace: the adapter itself (client,
domain mapping, mock endpoint) is built on top of digidialog's adapter contract.
"""
