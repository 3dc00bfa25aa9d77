-- rejected (exit 2)
error[probity::sql::unsupported]: the SQL backend cannot express an aggregate in `undeclared_interest`
  --> rules/interests/undeclared_interest.coi:16:9
   |
16 |         declarations = count {
   |         ^^^^^^^^^^^^^^^^^^^^^^
   = help: Spark SQL restricts correlated subqueries; compile this rule for DuckDB or PostgreSQL

1 error
