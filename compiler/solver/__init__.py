"""The solver's encoding of guidelines, shared by the analysis and the behavioural diff:
``terms`` states the three-valued semantics of conditions in z3 once."""
