"""``python -m cli``: the ``veille`` command."""
import sys

from cli.main import main

sys.exit(main())
