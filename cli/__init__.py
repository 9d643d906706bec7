"""The ``veille`` command line (front end): one module per sub-command in ``cli.commands``, French help.

The top layer: it may import every package of the project; none imports it."""
