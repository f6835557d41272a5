"""`python -m helpers.course run [CHAPTER ...]` and `python -m helpers.course exercises`."""

from .chapters import main

raise SystemExit(main())
