"""``python -m simulation.cli``: the same as the ``secmig`` command."""

import sys

from simulation.cli.main import main

sys.exit(main())
