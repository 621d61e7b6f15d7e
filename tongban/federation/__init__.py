"""Federation: national, provincial and city deployments exchanging signed, logged messages."""
