#include "util/errors.h"

#include <stdio.h>
#include <string.h>

/* OpenCL 1.2 status codes plus the ICD loader's -1001 and common extensions. */
#define CLB_OPENCL_STATUS_MAP(X)                                                            \
  X(CL_SUCCESS, 0, "success")                                                               \
  X(CL_DEVICE_NOT_FOUND, -1, "no device of the requested type")                             \
  X(CL_DEVICE_NOT_AVAILABLE, -2, "the device is not available")                             \
  X(CL_COMPILER_NOT_AVAILABLE, -3, "the OpenCL compiler is not available")                  \
  X(CL_MEM_OBJECT_ALLOCATION_FAILURE, -4, "the device could not allocate a buffer")         \
  X(CL_OUT_OF_RESOURCES, -5, "the device ran out of resources")                             \
  X(CL_OUT_OF_HOST_MEMORY, -6, "the OpenCL runtime ran out of host memory")                 \
  X(CL_PROFILING_INFO_NOT_AVAILABLE, -7, "profiling information is not available")          \
  X(CL_MEM_COPY_OVERLAP, -8, "source and destination of a copy overlap")                    \
  X(CL_IMAGE_FORMAT_MISMATCH, -9, "image formats do not match")                             \
  X(CL_IMAGE_FORMAT_NOT_SUPPORTED, -10, "image format not supported")                       \
  X(CL_BUILD_PROGRAM_FAILURE, -11, "the OpenCL program failed to build")                    \
  X(CL_MAP_FAILURE, -12, "mapping a buffer failed")                                         \
  X(CL_MISALIGNED_SUB_BUFFER_OFFSET, -13, "sub-buffer offset is misaligned")                \
  X(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST, -14, "an event in the wait list failed")  \
  X(CL_COMPILE_PROGRAM_FAILURE, -15, "compiling the program failed")                        \
  X(CL_LINKER_NOT_AVAILABLE, -16, "the linker is not available")                            \
  X(CL_LINK_PROGRAM_FAILURE, -17, "linking the program failed")                             \
  X(CL_DEVICE_PARTITION_FAILED, -18, "device partitioning failed")                          \
  X(CL_KERNEL_ARG_INFO_NOT_AVAILABLE, -19, "kernel argument info is not available")         \
  X(CL_INVALID_VALUE, -30, "an argument has an invalid value")                              \
  X(CL_INVALID_DEVICE_TYPE, -31, "invalid device type")                                     \
  X(CL_INVALID_PLATFORM, -32, "invalid platform")                                           \
  X(CL_INVALID_DEVICE, -33, "invalid device")                                               \
  X(CL_INVALID_CONTEXT, -34, "invalid context")                                             \
  X(CL_INVALID_QUEUE_PROPERTIES, -35, "queue properties not supported")                     \
  X(CL_INVALID_COMMAND_QUEUE, -36, "invalid command queue")                                 \
  X(CL_INVALID_HOST_PTR, -37, "invalid host pointer")                                       \
  X(CL_INVALID_MEM_OBJECT, -38, "invalid buffer")                                           \
  X(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR, -39, "invalid image format")                        \
  X(CL_INVALID_IMAGE_SIZE, -40, "invalid image size")                                       \
  X(CL_INVALID_SAMPLER, -41, "invalid sampler")                                             \
  X(CL_INVALID_BINARY, -42, "invalid program binary")                                       \
  X(CL_INVALID_BUILD_OPTIONS, -43, "invalid build options")                                 \
  X(CL_INVALID_PROGRAM, -44, "invalid program")                                             \
  X(CL_INVALID_PROGRAM_EXECUTABLE, -45, "the program has not been built")                   \
  X(CL_INVALID_KERNEL_NAME, -46, "no kernel of that name")                                  \
  X(CL_INVALID_KERNEL_DEFINITION, -47, "invalid kernel definition")                         \
  X(CL_INVALID_KERNEL, -48, "invalid kernel")                                               \
  X(CL_INVALID_ARG_INDEX, -49, "invalid kernel argument index")                             \
  X(CL_INVALID_ARG_VALUE, -50, "invalid kernel argument value")                             \
  X(CL_INVALID_ARG_SIZE, -51, "invalid kernel argument size")                               \
  X(CL_INVALID_KERNEL_ARGS, -52, "kernel arguments not set")                                \
  X(CL_INVALID_WORK_DIMENSION, -53, "invalid work dimension")                               \
  X(CL_INVALID_WORK_GROUP_SIZE, -54, "invalid work-group size")                             \
  X(CL_INVALID_WORK_ITEM_SIZE, -55, "invalid work-item size")                               \
  X(CL_INVALID_GLOBAL_OFFSET, -56, "invalid global offset")                                 \
  X(CL_INVALID_EVENT_WAIT_LIST, -57, "invalid event wait list")                             \
  X(CL_INVALID_EVENT, -58, "invalid event")                                                 \
  X(CL_INVALID_OPERATION, -59, "invalid operation")                                         \
  X(CL_INVALID_GL_OBJECT, -60, "invalid GL object")                                         \
  X(CL_INVALID_BUFFER_SIZE, -61, "invalid buffer size (zero or above the device's limit)")  \
  X(CL_INVALID_MIP_LEVEL, -62, "invalid mip level")                                         \
  X(CL_INVALID_GLOBAL_WORK_SIZE, -63, "invalid global work size")                           \
  X(CL_INVALID_PROPERTY, -64, "invalid property")                                           \
  X(CL_INVALID_IMAGE_DESCRIPTOR, -65, "invalid image descriptor")                           \
  X(CL_INVALID_COMPILER_OPTIONS, -66, "invalid compiler options")                           \
  X(CL_INVALID_LINKER_OPTIONS, -67, "invalid linker options")                               \
  X(CL_INVALID_DEVICE_PARTITION_COUNT, -68, "invalid device partition count")               \
  X(CL_INVALID_PIPE_SIZE, -69, "invalid pipe size")                                         \
  X(CL_INVALID_DEVICE_QUEUE, -70, "invalid device queue")                                   \
  X(CL_INVALID_SPEC_ID, -71, "invalid specialization id")                                   \
  X(CL_MAX_SIZE_RESTRICTION_EXCEEDED, -72, "a size restriction was exceeded")               \
  X(CL_PLATFORM_NOT_FOUND_KHR, -1001, "no OpenCL platform (no ICD registered)")

/* CLBlast's own codes (the ones that do not alias an OpenCL code). */
#define CLB_CLBLAST_STATUS_MAP(X)                                                           \
  X(CLBlastNotImplemented, -1024, "CLBlast has no such routine for these arguments")      \
  X(CLBlastInvalidMatrixA, -1022, "matrix A is not a valid buffer")                         \
  X(CLBlastInvalidMatrixB, -1021, "matrix B is not a valid buffer")                         \
  X(CLBlastInvalidMatrixC, -1020, "matrix C is not a valid buffer")                         \
  X(CLBlastInvalidVectorX, -1019, "vector X is not a valid buffer")                         \
  X(CLBlastInvalidVectorY, -1018, "vector Y is not a valid buffer")                         \
  X(CLBlastInvalidDimension, -1017, "dimensions must be larger than zero")                  \
  X(CLBlastInvalidLeadDimA, -1016, "leading dimension of A too small")                      \
  X(CLBlastInvalidLeadDimB, -1015, "leading dimension of B too small")                      \
  X(CLBlastInvalidLeadDimC, -1014, "leading dimension of C too small")                      \
  X(CLBlastInvalidIncrementX, -1013, "increment of X is zero")                              \
  X(CLBlastInvalidIncrementY, -1012, "increment of Y is zero")                              \
  X(CLBlastInsufficientMemoryA, -1011, "buffer of A too small")                             \
  X(CLBlastInsufficientMemoryB, -1010, "buffer of B too small")                             \
  X(CLBlastInsufficientMemoryC, -1009, "buffer of C too small")                             \
  X(CLBlastInsufficientMemoryX, -1008, "buffer of X too small")                             \
  X(CLBlastInsufficientMemoryY, -1007, "buffer of Y too small")                             \
  X(CLBlastInsufficientMemoryTemp, -2050, "GEMM temporary buffer too small")                \
  X(CLBlastInvalidBatchCount, -2049, "batch count must be positive")                        \
  X(CLBlastInvalidOverrideKernel, -2048, "override for an unknown kernel")                  \
  X(CLBlastMissingOverrideParameter, -2047, "override is missing parameters")               \
  X(CLBlastInvalidLocalMemUsage, -2046, "not enough local memory for these parameters")     \
  X(CLBlastNoHalfPrecision, -2045, "the device has no half precision (cl_khr_fp16)")        \
  X(CLBlastNoDoublePrecision, -2044, "the device has no double precision (cl_khr_fp64)")    \
  X(CLBlastInvalidVectorScalar, -2043, "the scalar buffer is invalid")                      \
  X(CLBlastInsufficientMemoryScalar, -2042, "the scalar buffer is too small")               \
  X(CLBlastDatabaseError, -2041, "no CLBlast tuning entry for this device")                 \
  X(CLBlastUnknownError, -2040, "unspecified CLBlast error")                                \
  X(CLBlastUnexpectedError, -2039, "unexpected CLBlast error")

struct status_entry {
  int code;
  const char *name;
  const char *message;
};

#define CLB_TABLE_ENTRY(name, value, message) {value, #name, message},
static const struct status_entry status_table[] = {
    CLB_OPENCL_STATUS_MAP(CLB_TABLE_ENTRY) CLB_CLBLAST_STATUS_MAP(CLB_TABLE_ENTRY)
        CLB_ERRNO_MAP(CLB_TABLE_ENTRY)};
#undef CLB_TABLE_ENTRY

static const struct status_entry *find_status(int code) {
  for (size_t i = 0; i < sizeof status_table / sizeof status_table[0]; i++)
    if (status_table[i].code == code)
      return &status_table[i];
  return NULL;
}

const char *clb_status_name(int code) {
  const struct status_entry *entry = find_status(code);
  return entry ? entry->name : "UNKNOWN_STATUS";
}

const char *clb_strerror(int code) {
  const struct status_entry *entry = find_status(code);
  return entry ? entry->message : "unknown status code";
}

int clb_status_is_oom(int code) {
  return code == -4 /* CL_MEM_OBJECT_ALLOCATION_FAILURE, CLBlastTempBufferAllocFailure */ ||
         code == -5 /* CL_OUT_OF_RESOURCES */ || code == -6 /* CL_OUT_OF_HOST_MEMORY */ ||
         code == -61 /* CL_INVALID_BUFFER_SIZE: above CL_DEVICE_MAX_MEM_ALLOC_SIZE */ ||
         code == -2050 /* CLBlastInsufficientMemoryTemp */ || code == CLB_E_NOMEM;
}

int clb_fail(struct clb_error *err, int code, const char *call, const char *device,
             const char *detail_fmt, ...) {
  if (!err)
    return code;
  err->code = code;
  int used = snprintf(err->message, sizeof err->message, "%s on %s: %s (%d): %s", call,
                      device ? device : "(no device)", clb_status_name(code), code,
                      clb_strerror(code));
  if (detail_fmt && used > 0 && (size_t)used < sizeof err->message - 3) {
    va_list args;
    va_start(args, detail_fmt);
    strcat(err->message, "; ");
    used += 2;
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is three lines up; an analyzer false positive. */
    vsnprintf(err->message + used, sizeof err->message - (size_t)used, detail_fmt, args);
    va_end(args);
  }
  return code;
}

int clb_failf(struct clb_error *err, int code, const char *fmt, ...) {
  if (!err)
    return code;
  err->code = code;
  va_list args;
  va_start(args, fmt);
  /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is the line above; an analyzer false positive. */
  vsnprintf(err->message, sizeof err->message, fmt, args);
  va_end(args);
  return code;
}

void clb_error_clear(struct clb_error *err) {
  if (err) {
    err->code = 0;
    err->message[0] = '\0';
  }
}
