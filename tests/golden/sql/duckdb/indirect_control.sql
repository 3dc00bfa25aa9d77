-- rejected (exit 2)
error[probity::sql::unsupported]: the SQL backend cannot express recursion through arithmetic in `chain_stake`
  --> rules/ownership/indirect_control.coi:14:1
   |
14 | derive chain_stake(owner, company, a * b / 100) {
   | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: new values in a recursion need the native engine's limits to terminate; use the native engine

error[probity::sql::unsupported]: the SQL backend cannot express recursion through arithmetic in `path_stake`
  --> rules/ownership/indirect_control.coi:74:1
   |
74 | derive path_stake(owner, company, mid, a * b / 100) {
   | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: new values in a recursion need the native engine's limits to terminate; use the native engine

2 errors
