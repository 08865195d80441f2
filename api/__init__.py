"""The HTTP service, the chat page and the `precedent` command line: thin skins over search/ and ingest/."""
