import sys

from hearback.cli import main

sys.exit(main())
