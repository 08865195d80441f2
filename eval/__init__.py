"""Evaluation: retrieval and answer quality on question sets, naive baselines, and benchmarks."""
