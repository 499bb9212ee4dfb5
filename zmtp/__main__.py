"""``python -m zmtp`` runs the ``zmtp`` command."""

from __future__ import annotations

import sys

from zmtp.cli import main

sys.exit(main())
