"""``python -m qdyn`` runs the command line."""

import sys

from qdyn.cli import main

sys.exit(main())
