-- rejected (exit 2)
error[probity::sql::unsupported]: the SQL backend cannot express the list field `meeting.attendees` in `client_meets_interested_official`
  --> rules/interests/client_meets_official.coi:23:9
   |
23 |         meeting(id: m, on: on, attendees: official)
   |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: the SQL backend does not store list fields yet; leave the field out of the atom

error[probity::sql::unsupported]: the SQL backend cannot express the list field `meeting.attendees` in `client_meets_colleague_of_interested_official`
  --> rules/interests/client_meets_official.coi:74:9
   |
74 |         meeting(id: m, on: on, attendees: colleague)
   |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: the SQL backend does not store list fields yet; leave the field out of the atom

2 errors
