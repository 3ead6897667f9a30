/* Plots of `clbatch study` tables (`clbatch report --study`): validation
 * loss, sharpness and updates to the target vs batch size, the last with
 * the noise-scale prediction S_min (1 + B_noise/B) as a line; one series per
 * file. */
#include "report/plot.h"

#include <stdio.h>
#include <stdlib.h>

int clb_report_study_read(const char *path, struct clb_report_study *study, struct clb_error *err) {
  *study = (struct clb_report_study){0};
  int rc = clb_study_csv_read(path, &study->rows, &study->count, NULL, err);
  if (rc == CLB_OK && study->count == 0)
    rc = clb_failf(err, CLB_E_PARSE, "%s: no rows", path);
  for (size_t k = 0; rc == CLB_OK && k < study->count; k++) {
    const struct clb_study_csv_row *row = &study->rows[k];
    /* The x axis is a log axis of batch sizes. */
    if (!(row->effective_batch > 0))
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: column effective_batch: not a batch size: %g", path,
                     row->line, row->effective_batch);
  }
  if (rc != CLB_OK) {
    free(study->rows);
    *study = (struct clb_report_study){0};
    return rc;
  }
  snprintf(study->label, sizeof study->label, "%s %s (%s)", study->rows[0].model,
           study->rows[0].precision, study->rows[0].device);
  return CLB_OK;
}

int clb_report_plot_study(struct clb_report_plotter *p, const struct clb_report_study *list,
                          size_t n, struct clb_error *err) {
  struct clb_sbuf gp_val = {0}, gp_sharp = {0}, gp_time = {0}, dat = {0};
  int rc = CLB_OK;
  clb_report_gp_preamble(&gp_val, "validation loss vs batch size");
  clb_report_gp_batch_axis(&gp_val);
  clb_sbuf_puts(&gp_val, "set ylabel 'validation loss (where training stopped)'\nplot ");
  clb_report_gp_preamble(&gp_sharp, "sharpness vs batch size");
  clb_report_gp_batch_axis(&gp_sharp);
  clb_sbuf_puts(&gp_sharp, "set ylabel 'loss increase under perturbation'\nplot ");
  clb_report_gp_preamble(&gp_time, "updates to the target loss vs batch size");
  clb_report_gp_batch_axis(&gp_time);
  clb_sbuf_puts(&gp_time, "set logscale y\nset ylabel 'updates to the target'\nplot ");
  for (size_t s = 0; s < n; s++) {
    char path[4300], label[sizeof list->label + 32];
    snprintf(path, sizeof path, "%s/study_s%zu.dat", p->data_dir, s);
    clb_sbuf_destroy(&dat);
    clb_sbuf_puts(&dat, "# batch val_loss sharpness_mean sharpness_max steps predicted wall_s\n");
    for (size_t k = 0; k < list[s].count; k++) {
      const struct clb_study_csv_row *pt = &list[s].rows[k];
      clb_sbuf_printf(&dat, "%.9g", pt->effective_batch);
      clb_report_dat_value(&dat, pt->val_loss, 0);
      clb_report_dat_value(&dat, pt->sharpness_mean, 0);
      clb_report_dat_value(&dat, pt->sharpness_max, 0);
      clb_report_dat_value(&dat, pt->steps, 1);
      clb_report_dat_value(&dat, pt->predicted_steps, 1);
      clb_report_dat_value(&dat, pt->wall_s, 0);
      clb_sbuf_puts(&dat, "\n");
    }
    CLB_TRY(clb_sbuf_write_atomic(&dat, path, err));
    const char *color = clb_report_plot_color(s);
    if (s) {
      clb_sbuf_puts(&gp_val, ", \\\n     ");
      clb_sbuf_puts(&gp_sharp, ", \\\n     ");
      clb_sbuf_puts(&gp_time, ", \\\n     ");
    }
    clb_report_gp_series_line(&gp_val, path, 1, 2, color, "with linespoints lw 2 pt 7",
                              list[s].label);
    snprintf(label, sizeof label, "%s: mean", list[s].label);
    clb_report_gp_series_line(&gp_sharp, path, 1, 3, color, "with linespoints lw 2 pt 7", label);
    clb_sbuf_puts(&gp_sharp, ", \\\n     ");
    snprintf(label, sizeof label, "%s: max", list[s].label);
    clb_report_gp_series_line(&gp_sharp, path, 1, 4, color, "with linespoints lw 1 dt 2 pt 6",
                              label);
    snprintf(label, sizeof label, "%s: measured", list[s].label);
    clb_report_gp_series_line(&gp_time, path, 1, 5, color, "with points pt 7 ps 1.3", label);
    clb_sbuf_puts(&gp_time, ", \\\n     ");
    snprintf(label, sizeof label, "%s: S_min (1 + B_noise/B)", list[s].label);
    clb_report_gp_series_line(&gp_time, path, 1, 6, color, "with lines lw 2", label);
  }
  clb_sbuf_puts(&gp_val, "\n");
  clb_sbuf_puts(&gp_sharp, "\n");
  clb_sbuf_puts(&gp_time, "\n");
  CLB_TRY(clb_report_plot_run(p, "study_val_loss", "validation loss vs batch size", &gp_val,
                              CLB_REPORT_PLOT_HEIGHT, err));
  CLB_TRY(clb_report_plot_run(p, "study_sharpness", "sharpness vs batch size", &gp_sharp,
                              CLB_REPORT_PLOT_HEIGHT, err));
  CLB_TRY(clb_report_plot_run(p, "study_time_to_target", "updates to the target loss vs batch size",
                              &gp_time, CLB_REPORT_PLOT_HEIGHT, err));
cleanup:
  clb_sbuf_destroy(&dat);
  clb_sbuf_destroy(&gp_time);
  clb_sbuf_destroy(&gp_sharp);
  clb_sbuf_destroy(&gp_val);
  return rc;
}
