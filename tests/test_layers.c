/* The layering of src/ (DEVELOPERS.md): each folder is a layer, lowest
 * first, and a file includes headers of its own layer or of lower ones only,
 * so data flows one way and a lower layer can be tested without the higher. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static const char *const layers[] = {"util",    "cl",    "measure", "blas",   "model",
                                     "results", "train", "sweep",   "report", "cli"};
#define LAYER_COUNT (sizeof layers / sizeof layers[0])

static int layer_of(const char *folder, size_t length) {
  for (size_t i = 0; i < LAYER_COUNT; i++)
    if (strlen(layers[i]) == length && strncmp(layers[i], folder, length) == 0)
      return (int)i;
  return -1;
}

/* Checks every `#include "FOLDER/NAME.h"` of one file; returns violations. */
static int check_file(const char *path, int own_layer) {
  char *text = clb_test_read_file(path);
  cr_assert_not_null(text, "cannot read %s", path);
  int violations = 0;
  for (const char *p = strstr(text, "#include \""); p; p = strstr(p + 1, "#include \"")) {
    const char *name = p + strlen("#include \"");
    const char *slash = strchr(name, '/'), *quote = strchr(name, '"');
    cr_expect(slash && quote && slash < quote, "%s: include without its layer folder: %.40s",
              path, name);
    if (!slash || !quote || slash > quote)
      continue;
    int included = layer_of(name, (size_t)(slash - name));
    cr_expect_geq(included, 0, "%s includes from an unknown folder: %.40s", path, name);
    if (included > own_layer) {
      cr_expect_fail("%s (layer %s) includes %.*s from the higher layer %s", path,
                     layers[own_layer], (int)(quote - name), name, layers[included]);
      violations++;
    }
  }
  free(text);
  return violations;
}

Test(layers, no_file_includes_a_higher_layer) {
  size_t files = 0;
  for (size_t layer = 0; layer < LAYER_COUNT; layer++) {
    char dir_path[4096];
    snprintf(dir_path, sizeof dir_path, "%s/src/%s", CLBATCH_SOURCE_DIR, layers[layer]);
    DIR *dir = opendir(dir_path);
    cr_assert_not_null(dir, "no folder %s", dir_path);
    struct dirent *entry;
    while ((entry = readdir(dir))) {
      size_t len = strlen(entry->d_name);
      if (len < 3 || entry->d_name[len - 2] != '.' ||
          (entry->d_name[len - 1] != 'c' && entry->d_name[len - 1] != 'h'))
        continue;
      char path[8192];
      snprintf(path, sizeof path, "%s/%s", dir_path, entry->d_name);
      check_file(path, (int)layer);
      files++;
    }
    closedir(dir);
  }
  cr_expect_gt(files, 50, "only %zu source files found", files);
}

Test(layers, every_source_folder_is_a_known_layer) {
  char src_path[4096];
  snprintf(src_path, sizeof src_path, "%s/src", CLBATCH_SOURCE_DIR);
  DIR *dir = opendir(src_path);
  cr_assert_not_null(dir);
  struct dirent *entry;
  while ((entry = readdir(dir))) {
    if (entry->d_name[0] == '.')
      continue;
    cr_expect_geq(layer_of(entry->d_name, strlen(entry->d_name)), 0,
                  "src/%s is not a layer of tests/test_layers.c (nor of DEVELOPERS.md)",
                  entry->d_name);
  }
  closedir(dir);
}
