"""``python -m edigate`` runs the command line."""

from .cli.main import main

if __name__ == "__main__":  # not when a spawned worker process imports it
    main()
