# The JSON syntax check (common/json_check.c): every spooled event.json
# (spool files may be damaged or hand-made) and the JSON arguments of the
# scope setters go through it.
cw_add_fuzzer(fuzz_json_check SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_json_check.c
  LIBS cw_common)
