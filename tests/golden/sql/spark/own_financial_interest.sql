-- rejected (exit 2)
error[probity::sql::unsupported]: the SQL backend cannot express an aggregate in `participates_in_matter_affecting_own_interest`
  --> rules/interests/own_financial_interest.coi:36:9
   |
36 |         total = sum value {
   |         ^^^^^^^^^^^^^^^^^^^
   = help: Spark SQL restricts correlated subqueries; compile this rule for DuckDB or PostgreSQL

1 error
