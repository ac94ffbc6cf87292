"""``python -m canarystats`` runs the command-line interface."""

from canarystats.cli import main

raise SystemExit(main())
