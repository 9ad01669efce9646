"""``python -m recommender.shop`` = ``python -m shop`` (the command's old name)."""

import sys

from shop.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
