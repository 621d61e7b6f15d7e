"""Service items, their guides and departments. Importing the package registers what counts
changes of the catalog (``catalog.version``), before any of its rows can be written."""

# Re-exported so the import is kept: it registers the session events.
from tongban.catalog import version as version
