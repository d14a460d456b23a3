"""`python -m outcomes.disclosure FOLDER`: the output checker (as `outcomes check-outputs FOLDER`)."""

import sys

from outcomes.disclosure import main

sys.exit(main())
