"""customers layer of ordertags."""
