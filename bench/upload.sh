#!/bin/sh
# Uploader throughput to the loopback collector; see bench/upload.py.
exec python3 "$(dirname "$0")/upload.py" "${1:-build}"
