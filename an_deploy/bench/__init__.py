"""Latency measurement (CPU ``perf_counter``, GPU CUDA events) and reports (JSON, Markdown, PNG chart)."""
