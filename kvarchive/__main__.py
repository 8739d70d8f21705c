"""``python -m kvarchive``: the command line."""

import sys

from kvarchive.cli import main

if __name__ == "__main__":
    sys.exit(main())
