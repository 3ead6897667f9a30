/* Status codes and readable messages for OpenCL, CLBlast and clbatch itself.
 *
 * OpenCL codes (0 .. -72, -1001 ..) and CLBlast codes (-1024 .., -2039 .. -2050)
 * pass through unchanged; clbatch's own codes live in -30000 .. -30099 so the
 * three ranges never collide. */
#ifndef CLB_UTIL_ERRORS_H
#define CLB_UTIL_ERRORS_H

#include <stdarg.h>
#include <stddef.h>

/* clbatch's own status codes: X(name, value, message). */
#define CLB_ERRNO_MAP(X)                                                                    \
  X(CLB_E_NOMEM, -30000, "out of host memory")                                              \
  X(CLB_E_INVAL, -30001, "invalid argument")                                                \
  X(CLB_E_IO, -30002, "input/output error")                                                 \
  X(CLB_E_NO_PLATFORM, -30003, "no OpenCL platform found")                                  \
  X(CLB_E_NO_DEVICE, -30004, "no OpenCL device matches")                                    \
  X(CLB_E_PARSE, -30005, "malformed input")                                                 \
  X(CLB_E_UNSUPPORTED, -30006, "not supported by this device")                              \
  X(CLB_E_BUILD, -30007, "OpenCL program build failed")                                     \
  X(CLB_E_TIMEOUT, -30008, "timed out")                                                     \
  X(CLB_E_CHILD, -30009, "worker process failed")                                           \
  X(CLB_E_NUMERIC, -30010, "numeric failure (non-finite value)")                            \
  X(CLB_E_SCHEMA, -30011, "result file does not match the CSV schema")

enum clb_status {
  CLB_OK = 0,
#define CLB_ENUM_ENTRY(name, value, message) name = value,
  CLB_ERRNO_MAP(CLB_ENUM_ENTRY)
#undef CLB_ENUM_ENTRY
};

/* The name of any OpenCL, CLBlast or clbatch code ("CL_OUT_OF_RESOURCES",
 * "CLBlastInsufficientMemoryTemp", "CLB_E_PARSE"), or "UNKNOWN_STATUS". */
const char *clb_status_name(int code);

/* A one-line human explanation of any code. */
const char *clb_strerror(int code);

/* True when a code means the device ran out of memory or resources: such a
 * configuration is reported as an `oom` row rather than an `error`. */
int clb_status_is_oom(int code);

/* The last failure of a library call: its code and a sentence that names the
 * call, the device and the code's name. Callers own it (usually on the stack). */
struct clb_error {
  int code;
  char message[1024];
};

/* Records a failure and returns `code`, so call sites can `return clb_fail(...)`.
 * The message reads "CALL on DEVICE: NAME (CODE): explanation[; detail]". */
int clb_fail(struct clb_error *err, int code, const char *call, const char *device,
             const char *detail_fmt, ...) __attribute__((format(printf, 5, 6)));

/* Records a clbatch-level failure with a free-form message. */
int clb_failf(struct clb_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void clb_error_clear(struct clb_error *err);

/* Check an OpenCL/CLBlast status; on failure record it and jump to `cleanup`.
 * `rc` must be an int in scope; `err` a struct clb_error *. */
#define CLB_CHECK(status_expr, call_name, device_name)                                     \
  do {                                                                                      \
    int clb_check_status_ = (int)(status_expr);                                             \
    if (clb_check_status_ != 0) {                                                           \
      rc = clb_fail(err, clb_check_status_, (call_name), (device_name), NULL);              \
      goto cleanup;                                                                         \
    }                                                                                       \
  } while (0)

/* Propagate a clbatch status from a callee that already filled `err`. */
#define CLB_TRY(expr)                                                                       \
  do {                                                                                      \
    rc = (expr);                                                                            \
    if (rc != 0)                                                                            \
      goto cleanup;                                                                         \
  } while (0)

#endif
