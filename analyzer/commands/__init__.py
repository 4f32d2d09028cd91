"""One module per `retrorun` subcommand, each with `register(subparsers)` setting `func`."""
