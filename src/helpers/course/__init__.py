"""The course material, apart from the library: `chapters` (what every chapter starts with, the
success checks, running the chapters and blanking the exercises; `python -m helpers.course`),
`practice` (the practice library), `viz` (plots, grids, the embedding cloud), `pages` (executed
chapters as pages that open offline), `quiz` (five check-yourself questions per chapter).
"""

from .chapters import BLANK, SOLUTION, NotYet, check, main, run_chapters, setup, write_exercises

__all__ = ["BLANK", "SOLUTION", "NotYet", "check", "main", "run_chapters", "setup", "write_exercises"]
