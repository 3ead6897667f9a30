/* Loss curves of `clbatch train` CSVs (`clbatch report --train`): training
 * loss vs epoch and vs wall time, one plot pair per (model, precision), one
 * line per device and batch size. */
#include "report/plot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

/* Model, precision, device, batch, then epoch: each (model, precision) a
 * run of rows, within it each line's points in order. */
static int cmp_train(const void *pa, const void *pb) {
  const struct clb_train_csv_row *a = pa, *b = pb;
  int c;
  if ((c = strcmp(a->model, b->model)) || (c = strcmp(a->precision, b->precision)) ||
      (c = strcmp(a->device, b->device)) || (c = clb_report_cmp_double(a->batch, b->batch)))
    return c;
  return clb_report_cmp_double(a->epoch, b->epoch);
}

int clb_report_train_read(const char *const *files, size_t n_files, struct clb_report_train *out,
                          struct clb_error *err) {
  *out = (struct clb_report_train){0};
  for (size_t f = 0; f < n_files; f++) {
    int rc = clb_train_csv_read(files[f], &out->rows, &out->count, NULL, err);
    if (rc != CLB_OK)
      return rc;
  }
  if (out->count)
    qsort(out->rows, out->count, sizeof *out->rows, cmp_train);
  return CLB_OK;
}

void clb_report_train_destroy(struct clb_report_train *train) {
  if (!train)
    return;
  free(train->rows);
  *train = (struct clb_report_train){0};
}

int clb_report_plot_training(struct clb_report_plotter *p, const struct clb_report_train *train,
                             struct clb_error *err) {
  const struct clb_train_csv_row *pts = train->rows;
  size_t n = train->count;
  struct clb_sbuf gp_epoch = {0}, gp_wall = {0}, dat = {0};
  int rc = CLB_OK;
  for (size_t i = 0; i < n;) {
    /* One (model, precision) group: [i, j). */
    size_t j = i;
    while (j < n && !strcmp(pts[j].model, pts[i].model) &&
           !strcmp(pts[j].precision, pts[i].precision))
      j++;
    char safe_model[64], safe_precision[64], suffix[160], title[2 * CLB_CSV_STR_SIZE + 64];
    clb_safe_name(safe_model, sizeof safe_model, pts[i].model);
    clb_safe_name(safe_precision, sizeof safe_precision, pts[i].precision);
    snprintf(suffix, sizeof suffix, "%s_%s", safe_model, safe_precision);
    clb_sbuf_destroy(&gp_epoch);
    clb_sbuf_destroy(&gp_wall);
    snprintf(title, sizeof title, "%s, %s: training loss vs epoch", pts[i].model, pts[i].precision);
    /* A log axis shows whether the runs meet at the same minimum, which a
     * linear one flattens into zero; it needs every loss positive. */
    int positive = 1;
    for (size_t k = i; k < j; k++)
      positive &= pts[k].train_loss > 0;
    const char *y_axis = positive ? "set logscale y\nset ylabel 'training loss (log scale)'\n"
                                  : "set ylabel 'training loss'\n";
    clb_report_gp_preamble(&gp_epoch, title);
    clb_sbuf_puts(&gp_epoch, "set xlabel 'epoch'\n");
    clb_sbuf_puts(&gp_epoch, y_axis);
    clb_sbuf_puts(&gp_epoch, "plot ");
    snprintf(title, sizeof title, "%s, %s: training loss vs wall time", pts[i].model,
             pts[i].precision);
    clb_report_gp_preamble(&gp_wall, title);
    clb_sbuf_puts(&gp_wall, "set xlabel 'wall time (s)'\n");
    clb_sbuf_puts(&gp_wall, y_axis);
    clb_sbuf_puts(&gp_wall, "plot ");
    size_t series = 0, device_index = 0;
    for (size_t a = i; a < j;) {
      size_t b = a;
      while (b < j && !strcmp(pts[b].device, pts[a].device) && pts[b].batch == pts[a].batch)
        b++;
      if (a > i && strcmp(pts[a].device, pts[a - 1].device))
        device_index++;
      char path[4300], label[600];
      snprintf(path, sizeof path, "%s/train_%s_s%zu.dat", p->data_dir, suffix, series);
      clb_sbuf_destroy(&dat);
      clb_sbuf_puts(&dat, "# epoch train_loss wall_s\n");
      for (size_t k = a; k < b; k++) {
        clb_sbuf_printf(&dat, "%.9g", pts[k].epoch);
        clb_report_dat_value(&dat, pts[k].train_loss, 0);
        clb_report_dat_value(&dat, pts[k].wall_s, 0);
        clb_sbuf_puts(&dat, "\n");
      }
      CLB_TRY(clb_sbuf_write_atomic(&dat, path, err));
      snprintf(label, sizeof label, "B=%.0f (%s)", pts[a].batch, pts[a].device);
      char style[64];
      /* Colour tells batch sizes apart, the dash pattern devices. */
      snprintf(style, sizeof style, "with lines lw 2 dt %zu", device_index % 5 + 1);
      const char *color = clb_report_plot_color(series);
      if (series) {
        clb_sbuf_puts(&gp_epoch, ", \\\n     ");
        clb_sbuf_puts(&gp_wall, ", \\\n     ");
      }
      clb_report_gp_series_line(&gp_epoch, path, 1, 2, color, style, label);
      clb_report_gp_series_line(&gp_wall, path, 3, 2, color, style, label);
      series++;
      a = b;
    }
    clb_sbuf_puts(&gp_epoch, "\n");
    clb_sbuf_puts(&gp_wall, "\n");
    char name[256];
    snprintf(name, sizeof name, "train_loss_epoch_%s", suffix);
    snprintf(title, sizeof title, "%s, %s: training loss vs epoch", pts[i].model, pts[i].precision);
    CLB_TRY(clb_report_plot_run(p, name, title, &gp_epoch, CLB_REPORT_PLOT_HEIGHT, err));
    snprintf(name, sizeof name, "train_loss_wall_%s", suffix);
    snprintf(title, sizeof title, "%s, %s: training loss vs wall time", pts[i].model,
             pts[i].precision);
    CLB_TRY(clb_report_plot_run(p, name, title, &gp_wall, CLB_REPORT_PLOT_HEIGHT, err));
    i = j;
  }
cleanup:
  clb_sbuf_destroy(&dat);
  clb_sbuf_destroy(&gp_wall);
  clb_sbuf_destroy(&gp_epoch);
  return rc;
}
