"""reports layer of ordertags."""
