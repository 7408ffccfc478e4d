"""engine layer of ordertags."""
