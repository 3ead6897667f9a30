#include <criterion/criterion.h>
#include <string.h>

#include "util/errors.h"

Test(errors, every_opencl_code_has_a_name) {
  /* OpenCL 1.2 defines 0..-19 and -30..-68; none may fall through to UNKNOWN. */
  for (int code = 0; code >= -19; code--)
    cr_expect_str_neq(clb_status_name(code), "UNKNOWN_STATUS", "code %d", code);
  for (int code = -30; code >= -72; code--)
    cr_expect_str_neq(clb_status_name(code), "UNKNOWN_STATUS", "code %d", code);
  cr_expect_str_eq(clb_status_name(-1001), "CL_PLATFORM_NOT_FOUND_KHR");
}

Test(errors, every_clblast_code_has_a_name) {
  for (int code = -1024; code <= -1007; code++) {
    if (code == -1023)
      continue; /* CLBlast leaves -1023 unused. */
    cr_expect_str_neq(clb_status_name(code), "UNKNOWN_STATUS", "code %d", code);
  }
  for (int code = -2050; code <= -2039; code++)
    cr_expect_str_neq(clb_status_name(code), "UNKNOWN_STATUS", "code %d", code);
  cr_expect_str_eq(clb_status_name(-2050), "CLBlastInsufficientMemoryTemp");
}

Test(errors, clbatch_codes_have_names_and_messages) {
  cr_expect_str_eq(clb_status_name(CLB_E_PARSE), "CLB_E_PARSE");
  cr_expect_str_eq(clb_strerror(CLB_E_NO_PLATFORM), "no OpenCL platform found");
  cr_expect_str_eq(clb_status_name(12345), "UNKNOWN_STATUS");
}

Test(errors, message_names_call_device_and_code) {
  struct clb_error err = {0};
  int rc = clb_fail(&err, -5, "clEnqueueNDRangeKernel", "Tesla X", "kernel %s", "gather_rows");
  cr_expect_eq(rc, -5);
  cr_expect_eq(err.code, -5);
  cr_expect(strstr(err.message, "clEnqueueNDRangeKernel") != NULL);
  cr_expect(strstr(err.message, "Tesla X") != NULL);
  cr_expect(strstr(err.message, "CL_OUT_OF_RESOURCES") != NULL);
  cr_expect(strstr(err.message, "gather_rows") != NULL, "%s", err.message);
}

Test(errors, oom_classification) {
  cr_expect(clb_status_is_oom(-4));
  cr_expect(clb_status_is_oom(-5));
  cr_expect(clb_status_is_oom(-2050));
  cr_expect(!clb_status_is_oom(-30));
  cr_expect(!clb_status_is_oom(0));
}
