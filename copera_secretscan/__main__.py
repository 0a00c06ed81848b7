from .console import MODULE_PROG
from .quick import main

if __name__ == "__main__":  # spawn-started workers (macOS, Windows) import this module again
    raise SystemExit(main(prog=MODULE_PROG))
