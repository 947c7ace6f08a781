"""Forms of statutory sharing, one module per part (`roll`, `imports`, `returns`)."""
