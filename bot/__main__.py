import sys

from bot.cli import main

if __name__ == "__main__":  # the import worker process (spawn) imports this module again: it must not run
    sys.exit(main())
