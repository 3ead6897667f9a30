/* `clbatch study`: the batch-size study table. The options and the runs are
 * those of `clbatch train --validate-noise` (src/cli/train.c), with a
 * validation split and sharpness on by default. */
#include <stdio.h>

#include "cli/commands.h"

void clb_help_study(FILE *out) {
  fprintf(out, "Usage: clbatch study --target-loss L [OPTIONS]\n"
               "\n"
               "Trains one model on one device at every batch size of --batch from the same\n"
               "initial parameters until the training loss reaches L, and writes one table:\n"
               "batch, lr, updates and wall time to the target, final train and validation\n"
               "loss, gap, sharpness (mean, max), device memory, and the steps predicted by\n"
               "the gradient noise scale, S_min (1 + B_noise/B), with B_noise measured at the\n"
               "initial parameters and S_min fitted by least squares.\n"
               "\n"
               "Takes every option of `clbatch train` (see `clbatch help train`); here:\n"
               "  --target-loss L       required: the training loss to reach\n"
               "  --epochs E            the cap per run (default 100)\n"
               "  --val-fraction F      validation split (default 0.2)\n"
               "  --sharpness-eps X     (default 1e-3), --sharpness-samples K (default 16)\n"
               "  --lr-grid LIST        try each lr per batch size, keep the fastest\n"
               "  --out FILE.csv        the table as CSV, for `clbatch report --study FILE.csv`\n"
               "\n"
               "Exit status: 0 ok, 1 a run failed, 2 bad usage or input.\n");
}

int clb_cmd_study(int argc, char **argv) { return clb_train_cli(argc, argv, 2); }
