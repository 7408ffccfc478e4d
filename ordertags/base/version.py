"""The version of ordertags (read by the packaging metadata too)."""

VERSION = "0.1.0"
