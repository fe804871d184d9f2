"""The driver: the `guidec` command line above the stages.

It imports every stage (``dsl`` for text and trees, ``compiler`` for the checked model,
``targets`` for the outputs) and nothing imports it: ``dsl <- compiler <- targets <- cli``.
``cli.main`` holds the command group and the exit-code convention; each command is a module
of its own (``cli.check``, ``cli.build``, ...), imported only when it runs.
"""
