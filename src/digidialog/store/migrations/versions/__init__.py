"""One module per revision, oldest first; each upgrade keeps every row it finds."""
