"""``python -m moviepipe.events > docs/events.schema.json``: print the contract's JSON Schema."""

from moviepipe.events.schema import main

if __name__ == "__main__":
    main()
