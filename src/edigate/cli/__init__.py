"""The ``edigate`` command line: thin commands that call services and print."""
