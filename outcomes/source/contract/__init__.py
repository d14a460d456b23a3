"""The data contract and checking extracts against it: see `outcomes.source.contract.extract`."""
