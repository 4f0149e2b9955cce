import sys

from ..__main__ import main

sys.exit(main())
