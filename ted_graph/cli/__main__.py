"""``python -m ted_graph.cli``: the ``ted`` command."""

import sys

from ted_graph.cli import main

if __name__ == "__main__":
    sys.exit(main())
