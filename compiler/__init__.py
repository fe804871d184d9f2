"""The compiler: names, types, the checked model, the solver analysis, the interpreter.

Its passes recurse over expressions, and a chain of lets nests expressions as deep as the
chain is long (the language allows up to ``MAX_LET_DEPTH`` lets in a chain, E113 beyond):
the interpreter's recursion limit is raised once here to cover that depth with room to spare.
Since Python 3.11 these calls do not grow the C stack, so the raised limit is safe.
"""

import sys

#: guidec's own version (pyproject.toml's): generated code records which compiler wrote it.
GUIDEC_VERSION = "0.1.0"

#: The longest chain of lets (a let defined through another, and so on) the language allows.
MAX_LET_DEPTH = 1000

if sys.getrecursionlimit() < 12 * MAX_LET_DEPTH:
    sys.setrecursionlimit(12 * MAX_LET_DEPTH)
