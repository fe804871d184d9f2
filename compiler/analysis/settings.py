"""The analysis's limits: the solver's resource limit per query, and how many regions, witnesses,
queries and candidate patients a run spends. Read as ``settings.NAME`` so that a test can lower
one."""

from __future__ import annotations

#: Resource limit of one solver query: a base plus a share per unit of guideline size
#: (nodes, branches, recommendations, rules, inputs), so results repeat on any machine.
DEFAULT_RLIMIT = 20_000_000


RLIMIT_PER_UNIT = 5_000


#: Gap regions described per decision (None: every one; `guidec check --max-regions N` caps
#: them). Each region costs a few queries, and MAX_QUERIES still bounds the whole run.
MAX_REGIONS: int | None = None


#: Unsat findings explained from a core (the others say so).
MAX_EXPLAINED = 50


#: Findings per check shown with a witness (each is re-checked by the interpreter); the others
#: are still reported, without one.
MAX_WITNESSES = 100


#: Solver queries per run, and queries that may run out of resources (each costs a whole
#: budget): past either, the goals still open are undecided (W510), so a run always ends soon.
MAX_QUERIES = 3000


MAX_UNKNOWN = 16


FUZZ_BATCH = 16


FUZZ_BATCHES = 8


POLISH_TRIALS = 12


#: Traces a witness may spend moving numbers into their typical ranges (each trace walks the
#: pathway: on a big guideline an unbounded number made witnesses quadratic).
PLAUSIBLE_TRIALS = 6


#: Goals per solver query once a big group turns out to need a patient per goal.
RESOLVE_BATCH = 256
