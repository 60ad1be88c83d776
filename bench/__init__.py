"""`make bench`: throughput and latency of the pixel and the redirect against nginx and bare Flask.

Entry point: `python -m bench.run`. Results go to stdout and to bench/out/latest.json.
"""
