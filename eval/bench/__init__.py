"""Benchmarks: ingest throughput, encoders, start-up, query latency against a running server, the scale curve,
and readers under load while the server takes uploads.

Each prints a table; none asserts times (benchmarks are not tests).
"""
