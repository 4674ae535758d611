"""``python -m device`` runs the ``larder`` command line."""

import sys

from device.cli import main

sys.exit(main())
