"""钉钉: our Stream client, the OpenAPI, the adapter, its rendering and the reminder channel."""
