"""The command-line shell: parse, call one service, print."""
