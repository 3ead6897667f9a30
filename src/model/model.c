#include "model/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas/blas.h"
#include "cl/kernels.h"

/* A batch being processed: where its inputs and targets come from. */
struct batch_view {
  cl_mem x;
  size_t x_offset; /* elements */
  size_t x_first;  /* rows, for kernels that take a row offset */
  cl_mem targets;
  cl_mem order;
  size_t order_first;
  size_t rows;
};

struct clb_model {
  const struct clb_cl *cl;
  struct clb_model_config config;
  const struct clb_dataset *data;
  const char *device;
  size_t n, param_count, element_size, acc_size;
  struct clb_tensor tensors[4];
  struct clb_blas blas;
  cl_program program; /* borrowed from the device's program cache */
  cl_kernel gather, gather4, gather16, loss, correct_kernel, bias_relu, relu_backward, norm2_kernel,
      sum_squares;
  cl_mem x, y, order, identity, xb, yb, z, hidden, dhidden, theta, grad, ones, loss_rows,
      correct_rows, norms, scalar;
  cl_mem pinned; /* host mode: staging for one batch (rows, then targets) */
  void *pinned_ptr;
  cl_event staging_event; /* the last copy out of `pinned`, to wait on before refilling */
  void *host_x;           /* host mode: the data set in device precision */
  void *host_y;
  uint32_t *host_order;
  int gathers;
  size_t device_bytes;
  struct batch_view last_view; /* where the last batch's inputs were read from */
  cl_event *first_event_slot;   /* when set, the next command enqueued reports here */
};


size_t clb_model_param_count(const struct clb_model *model) { return model->param_count; }
size_t clb_model_device_bytes(const struct clb_model *model) {
  return model->device_bytes + model->blas.temp_bytes;
}
cl_command_queue clb_model_queue(const struct clb_model *model) { return model->cl->queue; }

static int is_classifier(const struct clb_model *model) {
  return clb_shape_is_classifier(model->config.shape.kind);
}

static int create_buffer(struct clb_model *model, size_t bytes, cl_mem_flags flags, cl_mem *out,
                         const char *what, struct clb_error *err) {
  cl_int status = CL_SUCCESS;
  *out = NULL;
  if (bytes == 0)
    bytes = model->element_size;
  if (bytes > model->cl->info->max_alloc_bytes)
    return clb_fail(err, CL_INVALID_BUFFER_SIZE, "clCreateBuffer", model->device,
                    "%s needs %zu bytes, above CL_DEVICE_MAX_MEM_ALLOC_SIZE (%llu)", what, bytes,
                    (unsigned long long)model->cl->info->max_alloc_bytes);
  *out = clCreateBuffer(model->cl->context, flags, bytes, NULL, &status);
  if (status != CL_SUCCESS)
    return clb_fail(err, status, "clCreateBuffer", model->device, "%s, %zu bytes", what, bytes);
  /* Touch it: some drivers allocate lazily and would fail inside a timed step. */
  cl_uchar zero = 0;
  status = clEnqueueFillBuffer(model->cl->queue, *out, &zero, 1, 0, bytes, 0, NULL, NULL);
  if (status != CL_SUCCESS)
    return clb_fail(err, status, "clEnqueueFillBuffer", model->device, "touching %s", what);
  if (!(flags & CL_MEM_ALLOC_HOST_PTR))
    model->device_bytes += bytes;
  return 0;
}

static int write_buffer(struct clb_model *model, cl_mem buffer, size_t offset, size_t bytes,
                        const void *src, const char *what, struct clb_error *err) {
  cl_int status =
      clEnqueueWriteBuffer(model->cl->queue, buffer, CL_TRUE, offset, bytes, src, 0, NULL, NULL);
  if (status != CL_SUCCESS)
    return clb_fail(err, status, "clEnqueueWriteBuffer", model->device, "%s", what);
  return 0;
}

static int read_buffer(struct clb_model *model, cl_mem buffer, size_t bytes, void *dst,
                       const char *what, struct clb_error *err) {
  cl_int status =
      clEnqueueReadBuffer(model->cl->queue, buffer, CL_TRUE, 0, bytes, dst, 0, NULL, NULL);
  if (status != CL_SUCCESS)
    return clb_fail(err, status, "clEnqueueReadBuffer", model->device, "%s", what);
  return 0;
}

/* Device copies of the inputs (x in device precision) and targets. */
static int convert_data(struct clb_model *model, void **x_out, void **y_out,
                        struct clb_error *err) {
  const struct clb_dataset *data = model->data;
  size_t x_count = data->n * data->d;
  *x_out = malloc(x_count * model->element_size);
  *y_out = is_classifier(model) ? malloc(data->n * sizeof(cl_int))
                                : malloc(data->n * data->c * model->element_size);
  if (!*x_out || !*y_out)
    return clb_failf(err, CLB_E_NOMEM, "out of host memory converting the data set");
  clb_precision_from_double(model->config.precision, data->x, *x_out, x_count);
  if (is_classifier(model)) {
    cl_int *labels = *y_out;
    for (size_t i = 0; i < data->n; i++)
      labels[i] = (cl_int)data->y[i];
  } else {
    clb_precision_from_double(model->config.precision, data->y, *y_out, data->n * data->c);
  }
  return 0;
}

static size_t target_row_bytes(const struct clb_model *model) {
  return is_classifier(model) ? sizeof(cl_int) : model->data->c * model->element_size;
}

static int fill_ones(struct clb_model *model, struct clb_error *err) {
  double one = 1.0;
  unsigned char pattern[8];
  clb_precision_from_double(model->config.precision, &one, pattern, 1);
  cl_int status = clEnqueueFillBuffer(model->cl->queue, model->ones, pattern,
                                      model->element_size, 0,
                                      model->config.max_batch * model->element_size, 0, NULL,
                                      NULL);
  if (status != CL_SUCCESS)
    return clb_fail(err, status, "clEnqueueFillBuffer", model->device, "ones vector");
  return 0;
}

static int build_kernels(struct clb_model *model, struct clb_error *err) {
  /* The device's copy of step.cl for this precision, built by the first
   * model of the device and shared by every later one. */
  int rc = clb_cl_program(model->cl, "step", clb_precision_build_options(model->config.precision),
                          &model->program, err);
  if (rc != 0)
    return rc;
  const char *kernel_names[] = {
      "gather_rows",
      "gather_rows4",
      "gather_rows16",
      is_classifier(model) ? "softmax_loss" : "linreg_loss",
      "softmax_correct",
      "bias_relu",
      "relu_backward",
      "sample_grad_norm2",
      "sum_squares",
  };
  cl_kernel *slots[] = {&model->gather,        &model->gather4,        &model->gather16,
                        &model->loss,          &model->correct_kernel, &model->bias_relu,
                        &model->relu_backward, &model->norm2_kernel,   &model->sum_squares};
  for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
    cl_int status = CL_SUCCESS;
    *slots[i] = clCreateKernel(model->program, kernel_names[i], &status);
    if (status != CL_SUCCESS)
      return clb_fail(err, status, "clCreateKernel", model->device, "%s", kernel_names[i]);
  }
  return 0;
}

static int check_limits(const struct clb_model_config *config, const struct clb_dataset *data,
                        struct clb_error *err) {
  const struct clb_shape *shape = &config->shape;
  size_t widest = shape->d > shape->h ? shape->d : shape->h;
  if (widest < shape->c)
    widest = shape->c;
  if (config->max_batch == 0 || data->n == 0)
    return clb_failf(err, CLB_E_INVAL, "batch and data set must be non-empty");
  /* Kernels index with 32-bit counts; beyond that the step cannot be expressed. */
  if (data->n > UINT32_MAX || (double)data->n * (double)data->d > (double)UINT32_MAX * 4 ||
      (double)config->max_batch * (double)widest > (double)UINT32_MAX)
    return clb_failf(err, CLB_E_INVAL,
                     "data set or batch too large: rows x columns must stay below 2^32");
  if (data->d != shape->d || data->c != shape->c)
    return clb_failf(err, CLB_E_INVAL, "data set shape (D=%zu, C=%zu) differs from the model's",
                     data->d, data->c);
  return 0;
}

/* The temporary buffer for every GEMM of a step, each at the offsets it
 * runs at (forward() and backward()). A batch read in place from the data
 * set starts at row `first`, not at 0: its GEMMs are reserved at an offset
 * of one row, which needs as much as any other row (only offset 0 differs);
 * a gathered or staged batch starts at 0. */
static int reserve_gemms(struct clb_model *model, size_t rows, struct clb_error *err) {
  const struct clb_shape *s = &model->config.shape;
  const struct clb_tensor *t = model->tensors;
  struct clb_blas *blas = &model->blas;
  size_t d = s->d, h = s->h, c = s->c;
  size_t x = model->config.data_on_host || model->gathers ? 0 : d;
  int rc = 0;
  if (s->kind != CLB_MODEL_MLP) {
    CLB_TRY(clb_blas_reserve_gemm(blas, 0, 0, rows, c, d, x, d, 0, c, 0, c, err));
    CLB_TRY(clb_blas_reserve_gemm(blas, 1, 0, d, c, rows, x, d, 0, c, t[0].offset, c, err));
  } else {
    CLB_TRY(clb_blas_reserve_gemm(blas, 0, 0, rows, h, d, x, d, t[0].offset, h, 0, h, err));
    CLB_TRY(clb_blas_reserve_gemm(blas, 0, 0, rows, c, h, 0, h, t[2].offset, c, 0, c, err));
    CLB_TRY(clb_blas_reserve_gemm(blas, 1, 0, h, c, rows, 0, h, 0, c, t[2].offset, c, err));
    CLB_TRY(clb_blas_reserve_gemm(blas, 0, 1, rows, h, c, 0, c, t[2].offset, c, 0, h, err));
    CLB_TRY(clb_blas_reserve_gemm(blas, 1, 0, d, h, rows, x, d, 0, h, t[0].offset, h, err));
  }
cleanup:
  return rc;
}

static int allocate(struct clb_model *model, struct clb_error *err) {
  const struct clb_shape *s = &model->config.shape;
  const size_t b = model->config.max_batch, es = model->element_size, n = model->n;
  const cl_mem_flags rw = CL_MEM_READ_WRITE;
  int rc = 0;
  void *x_host = NULL, *y_host = NULL;
  CLB_TRY(convert_data(model, &x_host, &y_host, err));
  if (model->config.data_on_host) {
    model->host_x = x_host;
    model->host_y = y_host;
    x_host = y_host = NULL;
    size_t staging = b * (s->d * es + target_row_bytes(model));
    CLB_TRY(create_buffer(model, staging, rw | CL_MEM_ALLOC_HOST_PTR, &model->pinned,
                          "pinned staging buffer", err));
    cl_int status = CL_SUCCESS;
    model->pinned_ptr = clEnqueueMapBuffer(model->cl->queue, model->pinned, CL_TRUE,
                                           CL_MAP_READ | CL_MAP_WRITE, 0, staging, 0, NULL,
                                           NULL, &status);
    CLB_CHECK(status, "clEnqueueMapBuffer", model->device);
    CLB_TRY(create_buffer(model, b * target_row_bytes(model), rw, &model->yb, "batch targets",
                          err));
  } else {
    CLB_TRY(create_buffer(model, n * s->d * es, CL_MEM_READ_ONLY, &model->x, "data set", err));
    CLB_TRY(create_buffer(model, n * target_row_bytes(model), CL_MEM_READ_ONLY, &model->y,
                          "targets", err));
    CLB_TRY(write_buffer(model, model->x, 0, n * s->d * es, x_host, "data set", err));
    CLB_TRY(write_buffer(model, model->y, 0, n * target_row_bytes(model), y_host, "targets",
                         err));
  }
  CLB_TRY(create_buffer(model, n * sizeof(cl_uint), CL_MEM_READ_ONLY, &model->order, "order",
                        err));
  CLB_TRY(create_buffer(model, b * sizeof(cl_uint), CL_MEM_READ_ONLY, &model->identity,
                        "batch identity order", err));
  CLB_TRY(create_buffer(model, b * s->d * es, rw, &model->xb, "batch rows", err));
  CLB_TRY(create_buffer(model, b * s->c * es, rw, &model->z, "logits", err));
  if (s->kind == CLB_MODEL_MLP) {
    CLB_TRY(create_buffer(model, b * s->h * es, rw, &model->hidden, "hidden activations", err));
    CLB_TRY(create_buffer(model, b * s->h * es, rw, &model->dhidden, "hidden gradient", err));
  }
  CLB_TRY(create_buffer(model, model->param_count * es, rw, &model->theta, "parameters", err));
  CLB_TRY(create_buffer(model, model->param_count * es, rw, &model->grad, "gradient", err));
  CLB_TRY(create_buffer(model, b * es, CL_MEM_READ_ONLY, &model->ones, "ones", err));
  CLB_TRY(create_buffer(model, b * model->acc_size, rw, &model->loss_rows, "row losses", err));
  CLB_TRY(create_buffer(model, b * sizeof(cl_int), rw, &model->correct_rows, "row hits", err));
  CLB_TRY(create_buffer(model, b * model->acc_size, rw, &model->norms, "sample norms", err));
  CLB_TRY(create_buffer(model, model->acc_size > es ? model->acc_size : es, rw, &model->scalar,
                        "dot result", err));
  CLB_TRY(fill_ones(model, err));
  CLB_TRY(reserve_gemms(model, b, err));
  CLB_TRY(clb_model_set_order(model, NULL, err));
  cl_uint *identity = malloc(b * sizeof *identity);
  if (!identity) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of host memory");
    goto cleanup;
  }
  for (size_t i = 0; i < b; i++)
    identity[i] = (cl_uint)i;
  rc = write_buffer(model, model->identity, 0, b * sizeof(cl_uint), identity, "identity", err);
  free(identity);
  if (rc != 0)
    goto cleanup;
  CLB_CHECK(clFinish(model->cl->queue), "clFinish", model->device);
cleanup:
  free(x_host);
  free(y_host);
  return rc;
}

int clb_model_create(const struct clb_cl *cl, const struct clb_model_config *config,
                     const struct clb_dataset *data, struct clb_model **out,
                     struct clb_error *err) {
  *out = NULL;
  int rc = check_limits(config, data, err);
  if (rc != 0)
    return rc;
  char reason[256];
  if (clb_device_check_precision(cl->info, config->precision, reason, sizeof reason) != 0)
    return clb_failf(err, CLB_E_UNSUPPORTED, "%s", reason);
  struct clb_model *model = calloc(1, sizeof *model);
  if (!model)
    return clb_failf(err, CLB_E_NOMEM, "out of host memory creating the model");
  model->cl = cl;
  model->config = *config;
  model->data = data;
  model->device = cl->info->name;
  model->n = data->n;
  model->element_size = clb_precision_size(config->precision);
  model->acc_size = config->precision == CLB_FP64 ? sizeof(cl_double) : sizeof(cl_float);
  model->param_count = clb_shape_param_count(&config->shape);
  clb_shape_tensors(&config->shape, model->tensors);
  clb_blas_init(&model->blas, cl->context, cl->queue, model->device, config->precision);
  CLB_TRY(build_kernels(model, err));
  CLB_TRY(allocate(model, err));
  *out = model;
  return 0;
cleanup:
  clb_model_destroy(model);
  return rc;
}

static void release_mem(cl_mem *mem) {
  if (*mem)
    clReleaseMemObject(*mem);
  *mem = NULL;
}

void clb_model_destroy(struct clb_model *model) {
  if (!model)
    return;
  clFinish(model->cl->queue);
  if (model->staging_event)
    clReleaseEvent(model->staging_event);
  if (model->pinned_ptr)
    clEnqueueUnmapMemObject(model->cl->queue, model->pinned, model->pinned_ptr, 0, NULL, NULL);
  clFinish(model->cl->queue);
  cl_mem *buffers[] = {&model->x,      &model->y,           &model->order,   &model->identity,
                       &model->xb,     &model->yb,          &model->z,       &model->hidden,
                       &model->dhidden, &model->theta,      &model->grad,    &model->ones,
                       &model->loss_rows, &model->correct_rows, &model->norms, &model->scalar,
                       &model->pinned};
  for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
    release_mem(buffers[i]);
  cl_kernel kernels[] = {model->gather,        model->gather4,        model->gather16,
                         model->loss,          model->correct_kernel, model->bias_relu,
                         model->relu_backward, model->norm2_kernel,   model->sum_squares};
  for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++)
    if (kernels[i])
      clReleaseKernel(kernels[i]);
  clb_blas_destroy(&model->blas);
  free(model->host_x);
  free(model->host_y);
  free(model->host_order);
  free(model);
}

static int write_params_like(struct clb_model *model, cl_mem buffer, const double *values,
                             const char *what, struct clb_error *err) {
  size_t bytes = model->param_count * model->element_size;
  void *converted = malloc(bytes);
  if (!converted)
    return clb_failf(err, CLB_E_NOMEM, "out of host memory");
  clb_precision_from_double(model->config.precision, values, converted, model->param_count);
  int rc = write_buffer(model, buffer, 0, bytes, converted, what, err);
  free(converted);
  return rc;
}

static int read_params_like(struct clb_model *model, cl_mem buffer, double *values,
                            const char *what, struct clb_error *err) {
  size_t bytes = model->param_count * model->element_size;
  void *raw = malloc(bytes);
  if (!raw)
    return clb_failf(err, CLB_E_NOMEM, "out of host memory");
  int rc = read_buffer(model, buffer, bytes, raw, what, err);
  if (rc == 0)
    clb_precision_to_double(model->config.precision, raw, values, model->param_count);
  free(raw);
  return rc;
}

int clb_model_set_params(struct clb_model *model, const double *theta, struct clb_error *err) {
  return write_params_like(model, model->theta, theta, "parameters", err);
}

int clb_model_get_params(struct clb_model *model, double *theta, struct clb_error *err) {
  return read_params_like(model, model->theta, theta, "parameters", err);
}

int clb_model_get_grad(struct clb_model *model, double *grad, struct clb_error *err) {
  return read_params_like(model, model->grad, grad, "gradient", err);
}

int clb_model_set_order(struct clb_model *model, const uint32_t *order, struct clb_error *err) {
  size_t n = model->n;
  uint32_t *copy = malloc(n * sizeof *copy);
  if (!copy)
    return clb_failf(err, CLB_E_NOMEM, "out of host memory");
  int identity = 1;
  for (size_t i = 0; i < n; i++) {
    copy[i] = order ? order[i] : (uint32_t)i;
    identity &= copy[i] == i;
  }
  int rc = write_buffer(model, model->order, 0, n * sizeof(cl_uint), copy, "order", err);
  int gathered = model->gathers;
  model->gathers = !identity;
  free(model->host_order);
  model->host_order = copy;
  if (rc == 0 && gathered != model->gathers && !model->config.data_on_host) {
    /* X's offset in the step changed (see reserve_gemms). */
    clb_blas_release_temp(&model->blas);
    rc = reserve_gemms(model, model->config.max_batch, err);
  }
  return rc;
}

static int set_arg(struct clb_model *model, cl_kernel kernel, cl_uint index, size_t size,
                   const void *value, const char *kernel_name, struct clb_error *err) {
  cl_int status = clSetKernelArg(kernel, index, size, value);
  if (status != CL_SUCCESS)
    return clb_fail(err, status, "clSetKernelArg", model->device, "%s argument %u", kernel_name,
                    index);
  return 0;
}

#define ARG_MEM(i, v) CLB_TRY(set_arg(model, kernel, (i), sizeof(cl_mem), &(v), name, err))
#define ARG_UINT(i, v)                                                                      \
  do {                                                                                      \
    cl_uint arg_value_ = (cl_uint)(v);                                                      \
    CLB_TRY(set_arg(model, kernel, (i), sizeof arg_value_, &arg_value_, name, err));       \
  } while (0)
#define ARG_ACC(i, v) CLB_TRY(set_acc_arg(model, kernel, (i), (v), name, err))

static int set_acc_arg(struct clb_model *model, cl_kernel kernel, cl_uint index, double value,
                       const char *name, struct clb_error *err) {
  if (model->acc_size == sizeof(cl_double))
    return set_arg(model, kernel, index, sizeof value, &value, name, err);
  cl_float narrow = (cl_float)value;
  return set_arg(model, kernel, index, sizeof narrow, &narrow, name, err);
}

/* The slot for the event of a timed step's first command, once. */
static cl_event *take_first_event_slot(struct clb_model *model) {
  cl_event *slot = model->first_event_slot;
  model->first_event_slot = NULL;
  return slot;
}

static int launch(struct clb_model *model, cl_kernel kernel, size_t count, const char *name,
                  struct clb_error *err) {
  size_t local = 64;
  if (local > model->cl->info->max_work_group_size)
    local = model->cl->info->max_work_group_size;
  size_t global = (count + local - 1) / local * local;
  cl_event *event = take_first_event_slot(model);
  cl_int status =
      clEnqueueNDRangeKernel(model->cl->queue, kernel, 1, NULL, &global, &local, 0, NULL, event);
  if (status != CL_SUCCESS)
    return clb_fail(err, status, "clEnqueueNDRangeKernel", model->device, "%s over %zu items",
                    name, count);
  return 0;
}

/* A kernel over a rows x cols matrix whose work-items are (column, row):
 * work-groups of about ROW_KERNEL_ITEMS items, whole power-of-two spans of a
 * row wide and as many rows high as fit. Each work-group costs a CPU runtime
 * a task of its own, so they should not be small; 256 items suit GPUs too. */
#define ROW_KERNEL_ITEMS 256

static int launch_rows(struct clb_model *model, cl_kernel kernel, size_t cols, size_t rows,
                       const char *name, struct clb_error *err) {
  size_t items = ROW_KERNEL_ITEMS;
  if (items > model->cl->info->max_work_group_size)
    items = model->cl->info->max_work_group_size;
  size_t wide = 1;
  while (wide * 2 <= items && wide < cols)
    wide *= 2;
  size_t high = items / wide;
  while (high > 1 && high / 2 >= rows)
    high /= 2; /* a short batch: no work-group of mostly idle rows */
  size_t local[2] = {wide, high};
  size_t global[2] = {(cols + wide - 1) / wide * wide, (rows + high - 1) / high * high};
  cl_event *event = take_first_event_slot(model);
  cl_int status =
      clEnqueueNDRangeKernel(model->cl->queue, kernel, 2, NULL, global, local, 0, NULL, event);
  if (status != CL_SUCCESS)
    return clb_fail(err, status, "clEnqueueNDRangeKernel", model->device,
                    "%s over %zu x %zu items", name, rows, cols);
  return 0;
}

/* Host mode: gather the batch rows on the host into pinned memory and copy
 * them to the device, as a data loader would. */
static int stage_batch(struct clb_model *model, size_t first, size_t rows,
                       struct clb_error *err) {
  const size_t row_bytes = model->config.shape.d * model->element_size;
  const size_t target_bytes = target_row_bytes(model);
  int rc = 0;
  if (model->staging_event) {
    CLB_CHECK(clWaitForEvents(1, &model->staging_event), "clWaitForEvents", model->device);
    clReleaseEvent(model->staging_event);
    model->staging_event = NULL;
  }
  unsigned char *rows_dst = model->pinned_ptr;
  unsigned char *targets_dst = rows_dst + model->config.max_batch * row_bytes;
  for (size_t r = 0; r < rows; r++) {
    size_t sample = model->host_order[first + r];
    memcpy(rows_dst + r * row_bytes, (unsigned char *)model->host_x + sample * row_bytes,
           row_bytes);
    memcpy(targets_dst + r * target_bytes,
           (unsigned char *)model->host_y + sample * target_bytes, target_bytes);
  }
  CLB_CHECK(clEnqueueWriteBuffer(model->cl->queue, model->yb, CL_FALSE, 0, rows * target_bytes,
                                 targets_dst, 0, NULL, take_first_event_slot(model)),
            "clEnqueueWriteBuffer", model->device);
  CLB_CHECK(clEnqueueWriteBuffer(model->cl->queue, model->xb, CL_FALSE, 0, rows * row_bytes,
                                 rows_dst, 0, NULL, &model->staging_event),
            "clEnqueueWriteBuffer", model->device);
cleanup:
  return rc;
}

static int prepare_batch(struct clb_model *model, size_t first, size_t rows,
                         struct batch_view *view, struct clb_error *err) {
  int rc = 0;
  const size_t d = model->config.shape.d;
  if (rows == 0 || rows > model->config.max_batch || first + rows > model->n)
    return clb_failf(err, CLB_E_INVAL, "batch of %zu rows at %zu does not fit (max %zu, N %zu)",
                     rows, first, model->config.max_batch, model->n);
  view->rows = rows;
  if (model->config.data_on_host) {
    CLB_TRY(stage_batch(model, first, rows, err));
    *view = (struct batch_view){model->xb, 0, 0, model->yb, model->identity, 0, rows};
    return 0;
  }
  if (!model->gathers) {
    *view = (struct batch_view){model->x, first * d, first, model->y, model->order, first, rows};
    return 0;
  }
  /* Vectors of sixteen, a row per work-item, on a CPU; else of four or one,
   * over (column, row), when D allows (the buffers start aligned to the
   * largest vector type: OpenCL's CL_DEVICE_MEM_BASE_ADDR_ALIGN). */
  const int by_row = (model->cl->info->type & CL_DEVICE_TYPE_CPU) && d % 16 == 0;
  const int by_four = !by_row && d % 4 == 0;
  const size_t cols = by_row ? d / 16 : by_four ? d / 4 : d;
  cl_kernel kernel = by_row ? model->gather16 : by_four ? model->gather4 : model->gather;
  const char *name = by_row ? "gather_rows16" : by_four ? "gather_rows4" : "gather_rows";
  ARG_MEM(0, model->x);
  ARG_MEM(1, model->order);
  ARG_UINT(2, first);
  ARG_UINT(3, rows);
  ARG_UINT(4, cols);
  ARG_MEM(5, model->xb);
  if (by_row)
    CLB_TRY(launch(model, kernel, rows, name, err));
  else
    CLB_TRY(launch_rows(model, kernel, cols, rows, name, err));
  *view = (struct batch_view){model->xb, 0, 0, model->y, model->order, first, rows};
cleanup:
  return rc;
}

/* The arguments the loss kernels share: logits, bias, targets through the
 * order, rows and width (kernels/step.cl). */
static int set_row_kernel_args(struct clb_model *model, cl_kernel kernel, const char *name,
                               const struct batch_view *view, size_t bias_offset,
                               struct clb_error *err) {
  int rc = 0;
  ARG_MEM(0, model->z);
  ARG_MEM(1, model->theta);
  ARG_UINT(2, bias_offset);
  ARG_MEM(3, view->targets);
  ARG_MEM(4, view->order);
  ARG_UINT(5, view->order_first);
  ARG_UINT(6, view->rows);
  ARG_UINT(7, model->config.shape.c);
cleanup:
  return rc;
}

/* Runs the loss kernel on z: z becomes dZ = dscale * dloss/dz per row. */
static int loss_kernel(struct clb_model *model, const struct batch_view *view,
                       size_t bias_offset, double dscale, struct clb_error *err) {
  int rc = 0;
  cl_kernel kernel = model->loss;
  const char *name = is_classifier(model) ? "softmax_loss" : "linreg_loss";
  CLB_TRY(set_row_kernel_args(model, kernel, name, view, bias_offset, err));
  ARG_ACC(8, dscale);
  ARG_MEM(9, model->loss_rows);
  CLB_TRY(launch(model, kernel, view->rows, name, err));
cleanup:
  return rc;
}

/* Counts the rows whose arg-max logit is the label, before z turns into dZ. */
static int correct_kernel(struct clb_model *model, const struct batch_view *view,
                          size_t bias_offset, struct clb_error *err) {
  int rc = 0;
  cl_kernel kernel = model->correct_kernel;
  const char *name = "softmax_correct";
  CLB_TRY(set_row_kernel_args(model, kernel, name, view, bias_offset, err));
  ARG_MEM(8, model->correct_rows);
  CLB_TRY(launch(model, kernel, view->rows, name, err));
cleanup:
  return rc;
}

/* Forward pass up to and including the loss kernel. With count_correct, the
 * classifier's hits are counted before the logits turn into dZ. */
static int forward(struct clb_model *model, const struct batch_view *view, double dscale,
                   int count_correct, struct clb_error *err) {
  const struct clb_shape *s = &model->config.shape;
  struct clb_blas *blas = &model->blas;
  const size_t rows = view->rows, d = s->d, h = s->h, c = s->c;
  int rc = 0;
  size_t out_bias;
  if (s->kind != CLB_MODEL_MLP) {
    CLB_TRY(clb_blas_gemm(blas, 0, 0, rows, c, d, 1.0, view->x, view->x_offset, d, model->theta,
                          0, c, 0.0, model->z, 0, c, NULL, err));
    out_bias = model->tensors[1].offset;
  } else {
    CLB_TRY(clb_blas_gemm(blas, 0, 0, rows, h, d, 1.0, view->x, view->x_offset, d, model->theta,
                          model->tensors[0].offset, h, 0.0, model->hidden, 0, h, NULL, err));
    cl_kernel kernel = model->bias_relu;
    const char *name = "bias_relu";
    ARG_MEM(0, model->hidden);
    ARG_MEM(1, model->theta);
    ARG_UINT(2, model->tensors[1].offset);
    ARG_UINT(3, h);
    ARG_UINT(4, rows);
    CLB_TRY(launch_rows(model, kernel, h, rows, name, err));
    CLB_TRY(clb_blas_gemm(blas, 0, 0, rows, c, h, 1.0, model->hidden, 0, h, model->theta,
                          model->tensors[2].offset, c, 0.0, model->z, 0, c, NULL, err));
    out_bias = model->tensors[3].offset;
  }
  if (count_correct && is_classifier(model))
    CLB_TRY(correct_kernel(model, view, out_bias, err));
  CLB_TRY(loss_kernel(model, view, out_bias, dscale, err));
cleanup:
  return rc;
}

static int backward(struct clb_model *model, const struct batch_view *view,
                    struct clb_error *err) {
  const struct clb_shape *s = &model->config.shape;
  struct clb_blas *blas = &model->blas;
  const size_t rows = view->rows, d = s->d, h = s->h, c = s->c;
  const struct clb_tensor *t = model->tensors;
  int rc = 0;
  if (s->kind != CLB_MODEL_MLP) {
    CLB_TRY(clb_blas_gemm(blas, 1, 0, d, c, rows, 1.0, view->x, view->x_offset, d, model->z, 0,
                          c, 0.0, model->grad, t[0].offset, c, NULL, err));
    CLB_TRY(clb_blas_gemv(blas, 1, rows, c, 1.0, model->z, 0, c, model->ones, 0, 0.0,
                          model->grad, t[1].offset, NULL, err));
    return 0;
  }
  CLB_TRY(clb_blas_gemm(blas, 1, 0, h, c, rows, 1.0, model->hidden, 0, h, model->z, 0, c, 0.0,
                        model->grad, t[2].offset, c, NULL, err));
  CLB_TRY(clb_blas_gemv(blas, 1, rows, c, 1.0, model->z, 0, c, model->ones, 0, 0.0, model->grad,
                        t[3].offset, NULL, err));
  CLB_TRY(clb_blas_gemm(blas, 0, 1, rows, h, c, 1.0, model->z, 0, c, model->theta, t[2].offset,
                        c, 0.0, model->dhidden, 0, h, NULL, err));
  {
    cl_kernel kernel = model->relu_backward;
    const char *name = "relu_backward";
    ARG_MEM(0, model->dhidden);
    ARG_MEM(1, model->hidden);
    ARG_UINT(2, rows * h);
    CLB_TRY(launch(model, kernel, rows * h, name, err));
  }
  CLB_TRY(clb_blas_gemm(blas, 1, 0, d, h, rows, 1.0, view->x, view->x_offset, d, model->dhidden,
                        0, h, 0.0, model->grad, t[0].offset, h, NULL, err));
  CLB_TRY(clb_blas_gemv(blas, 1, rows, h, 1.0, model->dhidden, 0, h, model->ones, 0, 0.0,
                        model->grad, t[1].offset, NULL, err));
cleanup:
  return rc;
}

/* The loss derivative's own factor: 2 for the squared error, 1 for cross-entropy. */
static double loss_derivative_factor(const struct clb_model *model) {
  return is_classifier(model) ? 1.0 : 2.0;
}

int clb_model_gradient(struct clb_model *model, size_t first, size_t rows, double grad_scale,
                       struct clb_error *err) {
  struct batch_view view;
  int rc = prepare_batch(model, first, rows, &view, err);
  if (rc == 0)
    model->last_view = view;
  if (rc == 0)
    rc = forward(model, &view, grad_scale * loss_derivative_factor(model), 0, err);
  if (rc == 0)
    rc = backward(model, &view, err);
  return rc;
}

int clb_model_update(struct clb_model *model, double lr, struct clb_error *err) {
  return clb_blas_axpy(&model->blas, model->param_count, -lr, model->grad, 0, model->theta, 0,
                       NULL, err);
}

/* One SGD step. With event slots, the first and last commands report there
 * for device timing; without them no event is created. */
static int step(struct clb_model *model, size_t first, size_t rows, double lr,
                cl_event *first_event, cl_event *last_event, struct clb_error *err) {
  struct batch_view view;
  int rc = 0;
  model->first_event_slot = first_event;
  CLB_TRY(prepare_batch(model, first, rows, &view, err));
  if (model->first_event_slot) {
    /* The step starts inside CLBlast, whose event would cover only its last kernel. */
    model->first_event_slot = NULL;
    CLB_CHECK(clEnqueueMarkerWithWaitList(model->cl->queue, 0, NULL, first_event),
              "clEnqueueMarkerWithWaitList", model->device);
  }
  model->last_view = view;
  CLB_TRY(forward(model, &view, loss_derivative_factor(model) / (double)rows, 0, err));
  CLB_TRY(backward(model, &view, err));
  CLB_TRY(clb_blas_axpy(&model->blas, model->param_count, -lr, model->grad, 0, model->theta, 0,
                        last_event, err));
cleanup:
  model->first_event_slot = NULL;
  return rc;
}

int clb_model_step(struct clb_model *model, size_t first, size_t rows, double lr,
                   struct clb_error *err) {
  return step(model, first, rows, lr, NULL, NULL, err);
}

int clb_model_step_bracketed(struct clb_model *model, size_t first, size_t rows, double lr,
                             cl_event *first_event, cl_event *last_event,
                             struct clb_error *err) {
  *first_event = NULL;
  *last_event = NULL;
  return step(model, first, rows, lr, first_event, last_event, err);
}

int clb_model_steps_run(void *context, size_t index, cl_event *first_event, cl_event *last_event,
                        struct clb_error *err) {
  const struct clb_model_steps *steps = context;
  size_t first = (index % steps->full_steps) * steps->batch;
  if (!first_event)
    return clb_model_step(steps->model, first, steps->batch, steps->lr, err);
  return clb_model_step_bracketed(steps->model, first, steps->batch, steps->lr, first_event,
                                  last_event, err);
}

static int read_acc_rows(struct clb_model *model, cl_mem buffer, size_t rows, double *out,
                         const char *what, struct clb_error *err) {
  size_t bytes = rows * model->acc_size;
  void *raw = malloc(bytes);
  if (!raw)
    return clb_failf(err, CLB_E_NOMEM, "out of host memory");
  int rc = read_buffer(model, buffer, bytes, raw, what, err);
  for (size_t i = 0; rc == 0 && i < rows; i++)
    out[i] = model->acc_size == sizeof(cl_double) ? ((double *)raw)[i] : ((float *)raw)[i];
  free(raw);
  return rc;
}

static int norm_kernel(struct clb_model *model, cl_mem a, size_t a_first, size_t a_cols,
                       cl_mem delta, size_t delta_cols, size_t rows, int accumulate,
                       struct clb_error *err) {
  int rc = 0;
  cl_kernel kernel = model->norm2_kernel;
  const char *name = "sample_grad_norm2";
  ARG_MEM(0, a);
  ARG_UINT(1, a_first);
  ARG_UINT(2, a_cols);
  ARG_MEM(3, delta);
  ARG_UINT(4, delta_cols);
  ARG_UINT(5, rows);
  ARG_UINT(6, accumulate);
  ARG_MEM(7, model->norms);
  CLB_TRY(launch(model, kernel, rows, name, err));
cleanup:
  return rc;
}

int clb_model_sample_norms(struct clb_model *model, size_t rows, double *norms,
                           struct clb_error *err) {
  const struct clb_shape *s = &model->config.shape;
  int rc = 0;
  /* The batch's inputs are where the last gradient read them from. */
  cl_mem x = model->last_view.x;
  size_t x_first = model->last_view.x_first;
  if (!x || rows != model->last_view.rows)
    return clb_failf(err, CLB_E_INVAL, "sample norms need the gradient of the same %zu rows",
                     rows);
  if (s->kind != CLB_MODEL_MLP) {
    CLB_TRY(norm_kernel(model, x, x_first, s->d, model->z, s->c, rows, 0, err));
  } else {
    CLB_TRY(norm_kernel(model, x, x_first, s->d, model->dhidden, s->h, rows, 0, err));
    CLB_TRY(norm_kernel(model, model->hidden, 0, s->h, model->z, s->c, rows, 1, err));
  }
  CLB_TRY(read_acc_rows(model, model->norms, rows, norms, "sample norms", err));
cleanup:
  return rc;
}

int clb_model_evaluate(struct clb_model *model, size_t first, size_t rows, double *loss_sum,
                       size_t *correct, struct clb_error *err) {
  struct batch_view view;
  double *losses = malloc(rows * sizeof *losses);
  cl_int *hits = malloc(rows * sizeof *hits);
  int rc = 0;
  if (!losses || !hits) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of host memory");
    goto cleanup;
  }
  CLB_TRY(prepare_batch(model, first, rows, &view, err));
  CLB_TRY(forward(model, &view, 1.0, 1, err));
  CLB_TRY(read_acc_rows(model, model->loss_rows, rows, losses, "row losses", err));
  *loss_sum = 0;
  for (size_t i = 0; i < rows; i++)
    *loss_sum += losses[i];
  *correct = 0;
  if (is_classifier(model)) {
    CLB_TRY(read_buffer(model, model->correct_rows, rows * sizeof(cl_int), hits, "row hits",
                        err));
    for (size_t i = 0; i < rows; i++)
      *correct += hits[i] != 0;
  }
cleanup:
  free(losses);
  free(hits);
  return rc;
}

int clb_model_vector_create(struct clb_model *model, cl_mem *vector, struct clb_error *err) {
  size_t saved = model->device_bytes;
  int rc = create_buffer(model, model->param_count * model->element_size, CL_MEM_READ_WRITE,
                         vector, "noise vector", err);
  model->device_bytes = saved; /* measurement scratch, not part of the step */
  return rc;
}

int clb_model_vector_write(struct clb_model *model, cl_mem vector, const double *values,
                           struct clb_error *err) {
  return write_params_like(model, vector, values, "noise vector", err);
}

int clb_model_vector_read(struct clb_model *model, cl_mem vector, double *values,
                          struct clb_error *err) {
  return read_params_like(model, vector, values, "noise vector", err);
}

int clb_model_grad_axpy(struct clb_model *model, double alpha, cl_mem vector,
                        struct clb_error *err) {
  return clb_blas_axpy(&model->blas, model->param_count, alpha, model->grad, 0, vector, 0, NULL,
                       err);
}

int clb_model_axpy_into_grad(struct clb_model *model, double alpha, cl_mem vector,
                             struct clb_error *err) {
  return clb_blas_axpy(&model->blas, model->param_count, alpha, vector, 0, model->grad, 0, NULL,
                       err);
}

/* |v|^2 summed in float by sum_squares (kernels/step.cl): CLBlast's HDOT
 * would sum in half. */
static int half_norm2(struct clb_model *model, cl_mem v, double *norm2, struct clb_error *err) {
  int rc = 0;
  cl_kernel kernel = model->sum_squares;
  const char *name = "sum_squares";
  size_t kernel_limit = 0, local = 1;
  CLB_CHECK(clGetKernelWorkGroupInfo(kernel, model->cl->info->device, CL_KERNEL_WORK_GROUP_SIZE,
                                     sizeof kernel_limit, &kernel_limit, NULL),
            "clGetKernelWorkGroupInfo", model->device);
  while (local * 2 <= 256 && local * 2 <= kernel_limit)
    local *= 2;
  ARG_MEM(0, v);
  ARG_UINT(1, 0);
  ARG_UINT(2, model->param_count);
  ARG_MEM(3, model->scalar);
  CLB_TRY(set_arg(model, kernel, 4, local * sizeof(cl_float), NULL, name, err));
  CLB_CHECK(clEnqueueNDRangeKernel(model->cl->queue, kernel, 1, NULL, &local, &local, 0, NULL,
                                   NULL),
            "clEnqueueNDRangeKernel", model->device);
  cl_float sum = 0;
  CLB_TRY(read_buffer(model, model->scalar, sizeof sum, &sum, "sum of squares", err));
  *norm2 = sum;
cleanup:
  return rc;
}

int clb_model_norm2(struct clb_model *model, cl_mem vector, double *norm2,
                    struct clb_error *err) {
  cl_mem v = vector ? vector : model->grad;
  if (model->config.precision == CLB_FP16)
    return half_norm2(model, v, norm2, err);
  int rc = clb_blas_dot(&model->blas, model->param_count, model->scalar, 0, v, 0, v, 0, NULL,
                        err);
  if (rc != 0)
    return rc;
  unsigned char raw[8];
  rc = read_buffer(model, model->scalar, model->element_size, raw, "dot result", err);
  if (rc == 0)
    clb_precision_to_double(model->config.precision, raw, norm2, 1);
  return rc;
}
