"""飞书: our long-connection client, the OpenAPI, the adapter, its rendering and the reminder channel."""
