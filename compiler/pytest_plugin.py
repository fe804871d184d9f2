"""pytest plugin: collects the case blocks of .guide files (see compiler.cases)."""
