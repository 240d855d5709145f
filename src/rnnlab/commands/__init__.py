"""One module per command. Each defines ``register(subparsers)``; none imports torch at import."""
