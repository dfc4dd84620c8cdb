"""What rules share and is not itself a rule: locating and wording findings (graph rules,
static rules). Nothing here imports a rule module."""
