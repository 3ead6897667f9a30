/* Launches every kernel of kernels/step.cl and kernels/peak.cl with raw
 * OpenCL on awkward shapes (one row, primes, partial work-groups) exactly as
 * src/model/model.c does (1-D, local 64, global rounded up to a multiple of 64, the
 * kernel's own guard), and checks the results against host loops. Buffers
 * have their exact sizes, so under Oclgrind (scripts/oclgrind-check.sh) any
 * read or write past a guard is an out-of-bounds error. Exit 0 when every
 * result matches, 1 otherwise. */
#include <CL/cl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cl_context context;
static cl_command_queue queue;
static cl_device_id device;
static size_t local_size = 64;
static int failures;

#define CHECK(call)                                                                         \
  do {                                                                                      \
    cl_int status_ = (call);                                                                \
    if (status_ != CL_SUCCESS) {                                                            \
      fprintf(stderr, "oclgrind_driver: %s failed: %d (line %d)\n", #call, status_,         \
              __LINE__);                                                                    \
      exit(1);                                                                              \
    }                                                                                       \
  } while (0)

static char *read_text(const char *path) {
  FILE *file = fopen(path, "rb");
  if (!file) {
    fprintf(stderr, "oclgrind_driver: cannot read %s\n", path);
    exit(1);
  }
  fseek(file, 0, SEEK_END);
  long size = ftell(file);
  fseek(file, 0, SEEK_SET);
  char *text = malloc((size_t)size + 1);
  if (!text || fread(text, 1, (size_t)size, file) != (size_t)size)
    exit(1);
  text[size] = '\0';
  fclose(file);
  return text;
}

static cl_program build(const char *path, const char *options) {
  char *source = read_text(path);
  cl_int status;
  const char *sources[] = {source};
  cl_program program = clCreateProgramWithSource(context, 1, sources, NULL, &status);
  CHECK(status);
  status = clBuildProgram(program, 1, &device, options, NULL, NULL);
  if (status != CL_SUCCESS) {
    char log[16384] = "";
    clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, NULL);
    fprintf(stderr, "oclgrind_driver: building %s %s failed:\n%s\n", path, options, log);
    exit(1);
  }
  free(source);
  return program;
}

/* The element type of a precision: 4 (fp32) or 8 (fp64) bytes. */
static size_t real_size;

static cl_mem upload(const double *values, size_t count, size_t element) {
  unsigned char *raw = malloc(count * element);
  for (size_t i = 0; i < count; i++) {
    if (element == sizeof(double))
      ((double *)raw)[i] = values[i];
    else
      ((float *)raw)[i] = (float)values[i];
  }
  cl_int status;
  cl_mem buffer = clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                                 count * element, raw, &status);
  CHECK(status);
  free(raw);
  return buffer;
}

static cl_mem upload_uint(const cl_uint *values, size_t count) {
  cl_int status;
  cl_mem buffer = clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                                 count * sizeof *values, (void *)values, &status);
  CHECK(status);
  return buffer;
}

static void download(cl_mem buffer, double *values, size_t count, size_t element) {
  unsigned char *raw = malloc(count * element);
  CHECK(clEnqueueReadBuffer(queue, buffer, CL_TRUE, 0, count * element, raw, 0, NULL, NULL));
  for (size_t i = 0; i < count; i++)
    values[i] = element == sizeof(double) ? ((double *)raw)[i] : ((float *)raw)[i];
  free(raw);
}

/* The launch of src/model/model.c: global rounded up to a multiple of the local size. */
static void launch(cl_kernel kernel, size_t count) {
  size_t global = (count + local_size - 1) / local_size * local_size;
  CHECK(clEnqueueNDRangeKernel(queue, kernel, 1, NULL, &global, &local_size, 0, NULL, NULL));
  CHECK(clFinish(queue));
}

/* Over a rows x cols matrix with work-items (column, row), in work-groups
 * 8 wide and 4 high (src/model/model.c's are larger; these leave idle
 * work-items past both edges of the small test matrix). */
static void launch_rows(cl_kernel kernel, size_t cols, size_t rows) {
  size_t local[2] = {8, 4};
  size_t global[2] = {(cols + 7) / 8 * 8, (rows + 3) / 4 * 4};
  CHECK(clEnqueueNDRangeKernel(queue, kernel, 2, NULL, global, local, 0, NULL, NULL));
  CHECK(clFinish(queue));
}

static void arg_mem(cl_kernel k, cl_uint i, cl_mem m) { CHECK(clSetKernelArg(k, i, sizeof m, &m)); }
static void arg_uint(cl_kernel k, cl_uint i, size_t v) {
  cl_uint u = (cl_uint)v;
  CHECK(clSetKernelArg(k, i, sizeof u, &u));
}
static void arg_acc(cl_kernel k, cl_uint i, double v) {
  if (real_size == sizeof(double)) {
    CHECK(clSetKernelArg(k, i, sizeof v, &v));
  } else {
    float f = (float)v;
    CHECK(clSetKernelArg(k, i, sizeof f, &f));
  }
}

static void compare(const char *what, size_t rows, size_t cols, const double *got,
                    const double *want, size_t count) {
  double tolerance = real_size == sizeof(double) ? 1e-10 : 1e-4;
  for (size_t i = 0; i < count; i++)
    if (!(fabs(got[i] - want[i]) <= tolerance * (1 + fabs(want[i])))) {
      fprintf(stderr, "oclgrind_driver: %s fp%zu rows=%zu cols=%zu: [%zu] = %.9g, want %.9g\n",
              what, real_size * 8, rows, cols, i, got[i], want[i]);
      failures++;
      return;
    }
}

static double value(size_t i) { return sin(0.7 * (double)i + 0.3) * 2.0; }

/* gather_rows (width 1) or gather_rows4 (width 4), over (column, row), or
 * gather_rows16 (width 16), a row per work-item: `cols` columns, passed to
 * the kernel as cols / width vectors per row; a shuffled order. */
static void check_gather(cl_program program, const char *name, size_t width, size_t rows,
                         size_t cols) {
  const size_t first = 1, n = rows + first + 2;
  cl_int status;
  double *x = malloc(n * cols * sizeof *x), *want = malloc(rows * cols * sizeof *want);
  double *got = malloc(rows * cols * sizeof *got);
  cl_uint *order = malloc(n * sizeof *order);
  for (size_t i = 0; i < n * cols; i++)
    x[i] = value(i);
  for (size_t i = 0; i < n; i++)
    order[i] = (cl_uint)((i * 5 + 3) % n);
  cl_kernel k = clCreateKernel(program, name, &status);
  CHECK(status);
  cl_mem bx = upload(x, n * cols, real_size), border = upload_uint(order, n);
  cl_mem bxb = upload(x, rows * cols, real_size);
  arg_mem(k, 0, bx), arg_mem(k, 1, border), arg_uint(k, 2, first), arg_uint(k, 3, rows);
  arg_uint(k, 4, cols / width), arg_mem(k, 5, bxb);
  if (width == 16)
    launch(k, rows);
  else
    launch_rows(k, cols / width, rows);
  for (size_t r = 0; r < rows; r++)
    for (size_t j = 0; j < cols; j++)
      want[r * cols + j] = x[order[first + r] * cols + j];
  download(bxb, got, rows * cols, real_size);
  compare(name, rows, cols, got, want, rows * cols);
  clReleaseKernel(k);
  clReleaseMemObject(bx);
  clReleaseMemObject(border);
  clReleaseMemObject(bxb);
  free(x);
  free(want);
  free(got);
  free(order);
}

static void check_step(cl_program program, size_t rows, size_t cols) {
  const size_t first = 1, n = rows + first + 2; /* samples around the batch */
  const size_t bias = 5;                        /* theta = 5 unused, then cols biases */
  cl_int status;
  double *x = malloc(n * cols * sizeof *x), *want = malloc(n * cols * sizeof *want);
  double *got = malloc(n * cols * sizeof *got), *theta = malloc((bias + cols) * sizeof *theta);
  double *y = malloc(n * cols * sizeof *y), *z = malloc(rows * cols * sizeof *z);
  cl_uint *order = malloc(n * sizeof *order);
  cl_int *labels = malloc(n * sizeof *labels);
  for (size_t i = 0; i < n * cols; i++) {
    x[i] = value(i);
    y[i] = value(i + 1000);
  }
  for (size_t i = 0; i < rows * cols; i++)
    z[i] = value(i + 2000);
  for (size_t i = 0; i < bias + cols; i++)
    theta[i] = value(i + 3000) * 0.5;
  for (size_t i = 0; i < n; i++) {
    order[i] = (cl_uint)(n - 1 - i);
    labels[i] = (cl_int)((i * 7) % cols);
  }
  const size_t acc = real_size;

  cl_kernel k;
  cl_mem bx = upload(x, n * cols, real_size), border = upload_uint(order, n);

  /* linreg_loss: outputs = cols */
  const double dscale = 0.25;
  k = clCreateKernel(program, "linreg_loss", &status);
  CHECK(status);
  cl_mem bz = upload(z, rows * cols, real_size), btheta = upload(theta, bias + cols, real_size);
  cl_mem by = upload(y, n * cols, real_size);
  double *zeros = calloc(rows * cols + 1, sizeof *zeros);
  cl_mem bloss = upload(zeros, rows, acc);
  arg_mem(k, 0, bz), arg_mem(k, 1, btheta), arg_uint(k, 2, bias), arg_mem(k, 3, by);
  arg_mem(k, 4, border), arg_uint(k, 5, first), arg_uint(k, 6, rows), arg_uint(k, 7, cols);
  arg_acc(k, 8, dscale), arg_mem(k, 9, bloss);
  launch(k, rows);
  double *want_loss = calloc(rows, sizeof *want_loss), *got_loss = malloc(rows * sizeof *got_loss);
  for (size_t r = 0; r < rows; r++)
    for (size_t o = 0; o < cols; o++) {
      double residual = z[r * cols + o] + theta[bias + o] - y[order[first + r] * cols + o];
      want_loss[r] += residual * residual;
      want[r * cols + o] = dscale * residual;
    }
  download(bz, got, rows * cols, real_size);
  compare("linreg_loss dz", rows, cols, got, want, rows * cols);
  download(bloss, got_loss, rows, acc);
  compare("linreg_loss loss", rows, cols, got_loss, want_loss, rows);
  clReleaseKernel(k);
  clReleaseMemObject(bz);
  clReleaseMemObject(by);

  /* softmax_correct, then softmax_loss: classes = cols */
  cl_int status2;
  cl_mem blabels = clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                                  n * sizeof *labels, labels, &status2);
  CHECK(status2);
  bz = upload(z, rows * cols, real_size);
  cl_int *correct = calloc(rows, sizeof *correct);
  cl_mem bcorrect = clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                                   rows * sizeof *correct, correct, &status2);
  CHECK(status2);
  k = clCreateKernel(program, "softmax_correct", &status);
  CHECK(status);
  arg_mem(k, 0, bz), arg_mem(k, 1, btheta), arg_uint(k, 2, bias), arg_mem(k, 3, blabels);
  arg_mem(k, 4, border), arg_uint(k, 5, first), arg_uint(k, 6, rows), arg_uint(k, 7, cols);
  arg_mem(k, 8, bcorrect);
  launch(k, rows);
  CHECK(clEnqueueReadBuffer(queue, bcorrect, CL_TRUE, 0, rows * sizeof *correct, correct, 0,
                            NULL, NULL));
  clReleaseKernel(k);
  k = clCreateKernel(program, "softmax_loss", &status);
  CHECK(status);
  arg_mem(k, 0, bz), arg_mem(k, 1, btheta), arg_uint(k, 2, bias), arg_mem(k, 3, blabels);
  arg_mem(k, 4, border), arg_uint(k, 5, first), arg_uint(k, 6, rows), arg_uint(k, 7, cols);
  arg_acc(k, 8, dscale), arg_mem(k, 9, bloss);
  launch(k, rows);
  for (size_t r = 0; r < rows; r++) {
    const double *row = z + r * cols;
    int label = labels[order[first + r]];
    size_t best = 0;
    double top = row[0] + theta[bias];
    for (size_t c = 1; c < cols; c++)
      if (row[c] + theta[bias + c] > top) {
        top = row[c] + theta[bias + c];
        best = c;
      }
    double total = 0;
    for (size_t c = 0; c < cols; c++)
      total += exp(row[c] + theta[bias + c] - top);
    want_loss[r] = log(total) - (row[label] + theta[bias + label] - top);
    for (size_t c = 0; c < cols; c++)
      want[r * cols + c] =
          dscale * (exp(row[c] + theta[bias + c] - top) / total - ((int)c == label ? 1 : 0));
    if (correct[r] != ((int)best == label)) {
      fprintf(stderr, "oclgrind_driver: softmax_correct rows=%zu cols=%zu: row %zu wrong\n",
              rows, cols, r);
      failures++;
    }
  }
  download(bz, got, rows * cols, real_size);
  compare("softmax_loss dz", rows, cols, got, want, rows * cols);
  download(bloss, got_loss, rows, acc);
  compare("softmax_loss loss", rows, cols, got_loss, want_loss, rows);
  clReleaseKernel(k);
  clReleaseMemObject(bz);
  clReleaseMemObject(blabels);
  clReleaseMemObject(bcorrect);

  /* bias_relu and relu_backward over rows x cols */
  k = clCreateKernel(program, "bias_relu", &status);
  CHECK(status);
  cl_mem bh = upload(z, rows * cols, real_size);
  arg_mem(k, 0, bh), arg_mem(k, 1, btheta), arg_uint(k, 2, bias), arg_uint(k, 3, cols);
  arg_uint(k, 4, rows);
  launch_rows(k, cols, rows);
  double *h = malloc(rows * cols * sizeof *h);
  for (size_t i = 0; i < rows * cols; i++) {
    double v = z[i] + theta[bias + i % cols];
    h[i] = v > 0 ? v : 0;
  }
  download(bh, got, rows * cols, real_size);
  compare("bias_relu", rows, cols, got, h, rows * cols);
  clReleaseKernel(k);
  k = clCreateKernel(program, "relu_backward", &status);
  CHECK(status);
  cl_mem bdh = upload(y, rows * cols, real_size);
  arg_mem(k, 0, bdh), arg_mem(k, 1, bh), arg_uint(k, 2, rows * cols);
  launch(k, rows * cols);
  for (size_t i = 0; i < rows * cols; i++) {
    double stored = real_size == sizeof(double) ? h[i] : (double)(float)h[i];
    want[i] = stored > 0 ? y[i] : 0;
  }
  download(bdh, got, rows * cols, real_size);
  compare("relu_backward", rows, cols, got, want, rows * cols);
  clReleaseKernel(k);
  clReleaseMemObject(bh);
  clReleaseMemObject(bdh);

  /* sample_grad_norm2: a = x from row `first`, delta = z (rows x cols), twice
   * (the second accumulates). */
  k = clCreateKernel(program, "sample_grad_norm2", &status);
  CHECK(status);
  cl_mem bdelta = upload(z, rows * cols, real_size);
  for (int accumulate = 0; accumulate < 2; accumulate++) {
    arg_mem(k, 0, bx), arg_uint(k, 1, first), arg_uint(k, 2, cols), arg_mem(k, 3, bdelta);
    arg_uint(k, 4, cols), arg_uint(k, 5, rows), arg_uint(k, 6, (size_t)accumulate);
    arg_mem(k, 7, bloss);
    launch(k, rows);
  }
  for (size_t r = 0; r < rows; r++) {
    double a2 = 0, d2 = 0;
    for (size_t j = 0; j < cols; j++) {
      a2 += x[(first + r) * cols + j] * x[(first + r) * cols + j];
      d2 += z[r * cols + j] * z[r * cols + j];
    }
    want_loss[r] = 2 * (a2 + 1) * d2;
  }
  download(bloss, got_loss, rows, acc);
  compare("sample_grad_norm2", rows, cols, got_loss, want_loss, rows);
  clReleaseKernel(k);
  clReleaseMemObject(bdelta);

  /* sum_squares: the rows x cols elements of x after `first` rows, in one
   * work-group of 1, 16 and local_size items (as src/model/model.c launches it). */
  k = clCreateKernel(program, "sum_squares", &status);
  CHECK(status);
  double want_sum = 0;
  for (size_t i = 0; i < rows * cols; i++)
    want_sum += x[first * cols + i] * x[first * cols + i];
  const size_t groups[] = {1, 16, local_size};
  for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
    size_t group = groups[g] <= local_size ? groups[g] : local_size;
    arg_mem(k, 0, bx), arg_uint(k, 1, first * cols), arg_uint(k, 2, rows * cols);
    arg_mem(k, 3, bloss);
    CHECK(clSetKernelArg(k, 4, group * acc, NULL));
    CHECK(clEnqueueNDRangeKernel(queue, k, 1, NULL, &group, &group, 0, NULL, NULL));
    CHECK(clFinish(queue));
    double got_sum = 0;
    download(bloss, &got_sum, 1, acc);
    compare("sum_squares", rows, cols, &got_sum, &want_sum, 1);
  }
  clReleaseKernel(k);

  clReleaseMemObject(bx);
  clReleaseMemObject(border);
  clReleaseMemObject(btheta);
  clReleaseMemObject(bloss);
  free(x), free(want), free(got), free(theta), free(y), free(z), free(order), free(labels);
  free(zeros), free(want_loss), free(got_loss), free(correct), free(h);
}

/* peak.cl as src/blas/peak.c launches it, on a few work-groups. */
static void check_peak(const char *path) {
  cl_int status;
  cl_program program = build(path, "-DCLB_FP32");
  cl_kernel k = clCreateKernel(program, "copy_bandwidth", &status);
  CHECK(status);
  const size_t count = 3 * local_size; /* float4 elements */
  double *src = malloc(4 * count * sizeof *src), *got = malloc(4 * count * sizeof *got);
  for (size_t i = 0; i < 4 * count; i++)
    src[i] = value(i);
  cl_mem bsrc = upload(src, 4 * count, sizeof(float)), bdst = upload(src, 4 * count, sizeof(float));
  CHECK(clEnqueueFillBuffer(queue, bdst, &(cl_float){0}, sizeof(cl_float), 0,
                            4 * count * sizeof(cl_float), 0, NULL, NULL));
  arg_mem(k, 0, bsrc), arg_mem(k, 1, bdst);
  launch(k, count);
  real_size = sizeof(float);
  download(bdst, got, 4 * count, sizeof(float));
  compare("copy_bandwidth", count, 4, got, src, 4 * count);
  clReleaseKernel(k);
  clReleaseMemObject(bsrc);
  clReleaseMemObject(bdst);
  free(src), free(got);
  static const char *const kernels[] = {"fma_throughput_1", "fma_throughput_4", "fma_throughput_8",
                                        "fma_throughput_16"};
  for (size_t w = 0; w < sizeof kernels / sizeof kernels[0]; w++) {
    k = clCreateKernel(program, kernels[w], &status);
    CHECK(status);
    cl_mem out = clCreateBuffer(context, CL_MEM_WRITE_ONLY, 2 * local_size * sizeof(cl_float),
                                NULL, &status);
    CHECK(status);
    float seed = 1.0f / 1024.0f;
    arg_mem(k, 0, out);
    CHECK(clSetKernelArg(k, 1, sizeof seed, &seed));
    launch(k, 2 * local_size);
    clReleaseMemObject(out);
    clReleaseKernel(k);
  }
  k = clCreateKernel(program, "empty_kernel", &status);
  CHECK(status);
  clReleaseKernel(k);
  clReleaseProgram(program);
}

int main(int argc, char **argv) {
  const char *kernels = argc > 1 ? argv[1] : CLBATCH_SOURCE_DIR "/kernels";
  cl_platform_id platform;
  cl_uint platforms = 0;
  CHECK(clGetPlatformIDs(1, &platform, &platforms));
  CHECK(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL));
  char name[256] = "";
  clGetDeviceInfo(device, CL_DEVICE_NAME, sizeof name, name, NULL);
  size_t max_group = 0;
  CHECK(clGetDeviceInfo(device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof max_group, &max_group,
                        NULL));
  if (max_group < local_size)
    local_size = max_group;
  char extensions[4096] = "";
  clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, sizeof extensions, extensions, NULL);
  cl_int status;
  context = clCreateContext(NULL, 1, &device, NULL, NULL, &status);
  CHECK(status);
  queue = clCreateCommandQueue(context, device, 0, &status);
  CHECK(status);
  char step[4096], peak[4096];
  snprintf(step, sizeof step, "%s/step.cl", kernels);
  snprintf(peak, sizeof peak, "%s/peak.cl", kernels);
  static const size_t shapes_rows[] = {1, 7, 61}, shapes_cols[] = {1, 3, 67};
  int fp64 = strstr(extensions, "cl_khr_fp64") != NULL;
  for (int precision = 0; precision < 1 + fp64; precision++) {
    real_size = precision ? sizeof(double) : sizeof(float);
    cl_program program = build(step, precision ? "-DCLB_FP64" : "-DCLB_FP32");
    for (size_t r = 0; r < 3; r++)
      for (size_t c = 0; c < 3; c++) {
        check_step(program, shapes_rows[r], shapes_cols[c]);
        check_gather(program, "gather_rows", 1, shapes_rows[r], shapes_cols[c]);
        check_gather(program, "gather_rows4", 4, shapes_rows[r], 4 * shapes_cols[c]);
        check_gather(program, "gather_rows16", 16, shapes_rows[r], 16 * shapes_cols[c]);
      }
    clReleaseProgram(program);
  }
  check_peak(peak);
  clReleaseCommandQueue(queue);
  clReleaseContext(context);
  printf("oclgrind_driver: %s, local %zu, fp32%s: %s\n", name, local_size, fp64 ? "+fp64" : "",
         failures ? "MISMATCHES" : "all kernels match the host");
  return failures ? 1 : 0;
}
