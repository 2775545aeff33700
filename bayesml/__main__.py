"""``python -m bayesml``: the command line (``bayesml --help``)."""

import sys

from .cli import main

sys.exit(main())
