"""``python -m commands ...``: the ``moviepipe`` command line, as each pipeline step runs it."""

from commands.app import main

main()
