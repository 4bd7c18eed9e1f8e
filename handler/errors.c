/* errors.c — messages and names for CW_E* codes, from the one list in
 * crashwatch.h. Normal context. */
#include "crashwatch.h"

CW_EXTERN const char *cw_strerror(int err) {
  switch (err) {
  case 0:
    return "success";
#define CW__ERR_MSG(name, value, msg)                                          \
  case CW_##name:                                                              \
    return msg;
    CW_ERRNO_MAP(CW__ERR_MSG)
#undef CW__ERR_MSG
  default:
    return "unknown error";
  }
}

CW_EXTERN const char *cw_err_name(int err) {
  switch (err) {
  case 0:
    return "CW_OK";
#define CW__ERR_NAME(name, value, msg)                                         \
  case CW_##name:                                                              \
    return "CW_" #name;
    CW_ERRNO_MAP(CW__ERR_NAME)
#undef CW__ERR_NAME
  default:
    return "CW_EUNKNOWN";
  }
}

CW_EXTERN const char *cw_version(void) { return CW_VERSION_STRING; }
