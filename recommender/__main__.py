import sys

from recommender.cli import main

if __name__ == "__main__":  # worker processes (encode_pool) import this module again
    sys.exit(main())
