"""``python -m extract.mongo [OPTIONS]``: the same as ``moviepipe extract mongo``."""

import sys

from extract.cli import extract
from moviepipe import logs
from moviepipe.config import load_settings

if __name__ == "__main__":
    logs.configure(False)
    extract.main(
        args=["mongo", *sys.argv[1:]], obj=load_settings(), prog_name="python -m extract.mongo"
    )
