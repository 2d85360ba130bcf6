"""``python -m dataloupe.tui`` does what the ``dataloupe`` command does."""

import sys

from dataloupe.tui.cli import main

sys.exit(main())
