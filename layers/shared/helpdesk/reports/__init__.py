"""Reports: counters kept from the stream, and the figures computed from them."""
