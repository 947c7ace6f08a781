"""The only way statutory records change: `roll` (roll changes and their notification),
`importing` (roll changes from a school information system export), `returns` (the returns
calendar). See DESIGN.md section 5, rule 1."""
