"""``python -m ordertags``."""

from ordertags.cli import main

main()
