"""Versions of how stored data is derived, apart from the code that derives it: checking them at every
start then imports nothing heavy (see `seed.bundle_version`)."""

# Bump when extraction changes, so stored documents are re-extracted on their next import.
EXTRACTOR_VERSION = "5"  # 5: tab-separated task lists, red headers, roles with the subject, yearly values
