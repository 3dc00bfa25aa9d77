-- rejected (exit 2)
error[probity::sql::unsupported]: the SQL backend cannot express recursion in `chain_stake`
  --> rules/ownership/indirect_control.coi:11:1
   |
11 | derive chain_stake(owner, company, pct) {
   | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: Spark SQL has no recursive queries before 4.0; compile for DuckDB or PostgreSQL

error[probity::sql::unsupported]: the SQL backend cannot express an aggregate in `indirect_stake_multiplied`
  --> rules/ownership/indirect_control.coi:27:9
   |
27 |         best = max pct {
   |         ^^^^^^^^^^^^^^^^
   = help: Spark SQL restricts correlated subqueries; compile this rule for DuckDB or PostgreSQL

error[probity::sql::unsupported]: the SQL backend cannot express recursion in `controls`
  --> rules/ownership/indirect_control.coi:38:1
   |
38 | derive controls(owner, company) {
   | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: Spark SQL has no recursive queries before 4.0; compile for DuckDB or PostgreSQL

error[probity::sql::unsupported]: the SQL backend cannot express an aggregate in `indirect_control_pass_through`
  --> rules/ownership/indirect_control.coi:60:9
   |
60 |         best = max pct {
   |         ^^^^^^^^^^^^^^^^
   = help: Spark SQL restricts correlated subqueries; compile this rule for DuckDB or PostgreSQL

error[probity::sql::unsupported]: the SQL backend cannot express recursion in `path_stake`
  --> rules/ownership/indirect_control.coi:71:1
   |
71 | derive path_stake(owner, company, owner, pct) {
   | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: Spark SQL has no recursive queries before 4.0; compile for DuckDB or PostgreSQL

error[probity::sql::unsupported]: the SQL backend cannot express an aggregate in `indirect_stake_summed`
  --> rules/ownership/indirect_control.coi:87:9
   |
87 |         total = sum share {
   |         ^^^^^^^^^^^^^^^^^^^
   = help: Spark SQL restricts correlated subqueries; compile this rule for DuckDB or PostgreSQL

6 errors
