"""The data sharing exchange across nodes."""
