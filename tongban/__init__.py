"""tongban (通办): an integrated online government service platform."""

__version__ = "0.1.0"
