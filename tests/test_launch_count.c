/* The kernel-launch counter (cl/launch_count.c): every clEnqueueNDRangeKernel
 * of the process, clbatch's own and CLBlast's, counted once and passed on. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "blas/blas.h"
#include "cl/context.h"
#include "cl/kernels.h"
#include "cl/launch_count.h"
#include "helpers.h"
#include "model/dataset.h"
#include "model/model.h"

Test(launch_count, counts_each_launch_and_passes_its_status_back) {
  struct clb_device_list list = {0};
  const struct clb_device_info *dev = NULL;
  if (!clb_test_device(&list, &dev))
    return;
  struct clb_error err = {0};
  struct clb_cl cl;
  cr_assert_eq(clb_cl_create(dev, &cl, &err), 0, "%s", err.message);
  cl_program program = NULL;
  cr_assert_eq(
      clb_program_build(cl.context, dev->device, dev->name, "peak", "-DCLB_FP32", &program, &err),
      0, "%s", err.message);
  cl_int status = CL_SUCCESS;
  cl_kernel kernel = clCreateKernel(program, "empty_kernel", &status);
  cr_assert_eq(status, CL_SUCCESS);
  cl_mem unused = clCreateBuffer(cl.context, CL_MEM_WRITE_ONLY, sizeof(cl_float), NULL, &status);
  cr_assert_eq(status, CL_SUCCESS);
  cr_assert_eq(clSetKernelArg(kernel, 0, sizeof unused, &unused), CL_SUCCESS);

  size_t one = 1;
  unsigned long long before = clb_launch_count();
  for (int i = 0; i < 3; i++)
    cr_expect_eq(clEnqueueNDRangeKernel(cl.queue, kernel, 1, NULL, &one, &one, 0, NULL, NULL),
                 CL_SUCCESS);
  cr_expect_eq(clb_launch_count() - before, 3);
  /* The loader's own error comes back unchanged; the attempt still counts. */
  cr_expect_eq(clEnqueueNDRangeKernel(cl.queue, kernel, 0, NULL, &one, &one, 0, NULL, NULL),
               CL_INVALID_WORK_DIMENSION);
  cr_expect_eq(clb_launch_count() - before, 4);
  cr_expect_eq(clFinish(cl.queue), CL_SUCCESS);

  clReleaseMemObject(unused);
  clReleaseKernel(kernel);
  clReleaseProgram(program);
  clb_cl_destroy(&cl);
  clb_platform_list_destroy(&list);
}

struct step_case {
  int kind;
  size_t d, h, c;
  int data_on_host;
  size_t direct_kernels; /* with every GEMM on CLBlast's direct path */
};

/* The kernels of one step of `t` at B = 64 on `cl`. */
static size_t step_kernels(const struct clb_cl *cl, const struct step_case *t) {
  struct clb_error err = {0};
  const size_t n = 256, batch = 64;
  struct clb_dataset data = {0};
  int rc = t->kind == CLB_MODEL_LINREG ? clb_data_regression(n, t->d, t->c, 0.5, 42, &data, &err)
                                       : clb_data_classes(n, t->d, t->c, 1.0, 42, &data, &err);
  cr_assert_eq(rc, 0, "%s", err.message);
  struct clb_shape shape = {t->kind, t->d, t->h, t->c};
  struct clb_model_config config = {shape, CLB_FP32, batch, t->data_on_host};
  struct clb_model *model = NULL;
  cr_assert_eq(clb_model_create(cl, &config, &data, &model, &err), 0, "%s", err.message);
  uint32_t *order = malloc(n * sizeof *order);
  cr_assert_not_null(order);
  for (size_t i = 0; i < n; i++)
    order[i] = (uint32_t)(n - 1 - i);
  cr_assert_eq(clb_model_set_order(model, order, &err), 0, "%s", err.message);
  cr_assert_eq(clb_model_step(model, 0, batch, 0.01, &err), 0, "%s", err.message); /* builds */
  unsigned long long before = clb_launch_count();
  cr_assert_eq(clb_model_step(model, batch, batch, 0.01, &err), 0, "%s", err.message);
  size_t counted = (size_t)(clb_launch_count() - before);
  before = clb_launch_count();
  cr_assert_eq(clb_model_step(model, 2 * batch, batch, 0.01, &err), 0, "%s", err.message);
  cr_expect_eq(clb_launch_count() - before, counted, "%s: every step launches alike",
               clb_shape_kind_name(t->kind));
  free(order);
  clb_model_destroy(model);
  clb_dataset_destroy(&data);
  return counted;
}

/* The test device with every GEMM direct or, with `indirect`, every GEMM
 * indirect (CLBlast's padding copies around Xgemm); 0 when skipped. The
 * override holds for the whole process, so a process takes one path. */
static int open_path(struct clb_device_list *list, struct clb_cl *cl, int indirect) {
  const struct clb_device_info *dev = NULL;
  if (!clb_test_open_cl(list, &dev, cl, CLB_FP32))
    return 0;
  clb_test_set_gemm_crossover(dev, CLB_FP32, indirect ? 0 : 100000);
  return 1;
}

/* One kernel per CLBlast routine on the direct path (a one-output product is
 * one GEMV), plus clbatch's own: the gather (none with data on the host,
 * which is copied), the loss, bias_relu and relu_backward. The cases share
 * one context: a runtime without a kernel cache across processes (Intel's)
 * builds each program once. */
Test(launch_count, direct_steps) {
  static const struct step_case cases[] = {
      {CLB_MODEL_LINREG, 16, 0, 1, 0, 6},  /* gather, GEMV, loss, GEMV, bias GEMV, update */
      {CLB_MODEL_LINREG, 16, 0, 1, 1, 5},  /* copied from the host: no gather */
      {CLB_MODEL_SOFTMAX, 16, 0, 3, 0, 6}, /* gather, GEMM, loss, GEMM, bias GEMV, update */
      {CLB_MODEL_MLP, 16, 8, 3, 0, 12},    /* + a GEMM, bias_relu, GEMMs and relu_backward */
      {CLB_MODEL_MLP, 16, 8, 3, 1, 11},
  };
  struct clb_device_list list = {0};
  struct clb_cl cl;
  if (!open_path(&list, &cl, 0))
    return;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const struct step_case *t = &cases[i];
    size_t counted = step_kernels(&cl, t);
    cr_expect_eq(counted, t->direct_kernels, "%s, data on the %s: %zu kernels",
                 clb_shape_kind_name(t->kind), t->data_on_host ? "host" : "device", counted);
  }
  clb_test_close_cl(&list, &cl);
}

/* CLBlast's indirect GEMM pads the matrices that are not whole tiles into
 * its temporary buffer and back: more kernels than GEMMs, all counted. */
Test(launch_count, indirect_gemms_count_their_copies) {
  const struct step_case mlp = {CLB_MODEL_MLP, 16, 8, 3, 0, 12};
  struct clb_device_list list = {0};
  struct clb_cl cl;
  if (!open_path(&list, &cl, 1))
    return;
  size_t counted = step_kernels(&cl, &mlp);
  cr_expect_gt(counted, mlp.direct_kernels + 5, "%zu kernels", counted);
  clb_test_close_cl(&list, &cl);
}
