"""The HTTP API shell: parse, call one service, render."""
