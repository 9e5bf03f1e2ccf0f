"""edge_api: the HTTP endpoints SQL alone cannot serve."""
