"""Benchmarks: ingest throughput, query latency against a running server, and the scale curve.

Each prints a table; none asserts times (benchmarks are not tests).
"""
