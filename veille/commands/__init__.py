"""One module per ``veille`` sub-command; each exposes ``register(subparsers)``.

Adding a command = adding a module here (providers as plugins behind one interface, as simonw/llm)."""
