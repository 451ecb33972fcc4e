"""`python -m agentflow.cli`, the same as the `agentflow` command."""

from agentflow.cli import main

main()
