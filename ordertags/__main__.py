"""``python -m ordertags``."""

from .cli import main

main()
