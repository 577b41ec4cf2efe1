"""``python -m edigate`` runs the command line."""

from .cli.main import main

main()
