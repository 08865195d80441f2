"""Documents in, chunks out: sources -> parse -> metadata -> chunks -> embeddings -> the index."""
