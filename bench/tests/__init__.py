"""Unit tests of the harness's pure parts: `python3 -m unittest discover bench` (no pm2)."""
