"""The data sharing exchange: resource catalog, sharing requests and grants, the gateway."""
