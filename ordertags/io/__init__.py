"""io layer of ordertags."""
