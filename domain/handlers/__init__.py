"""The decider's rules, one module per part of the process; ``domain.decider`` dispatches."""
