"""``python -m ted_graph.cli``: the ``ted`` command."""

import sys

from ted_graph.cli import main

sys.exit(main())
