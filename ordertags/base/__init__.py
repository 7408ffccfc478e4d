"""base layer of ordertags."""
