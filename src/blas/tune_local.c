#include "blas/tune_local.h"

#include <stdlib.h>
#include <string.h>

#include "util/grow.h"

double clb_tune_compile_cost(const struct clb_tune_point *point) {
  const size_t *v = point->values;
  if (clb_tune_is_gemv(point->space->kernel)) /* it unrolls its WPT */
    return (double)v[CLB_G_WPT];
  if (strcmp(point->space->kernel, CLB_TUNE_TRANSPOSE_KERNEL) == 0) /* WPT x WPT unrolled */
    return (double)(v[CLB_P_WPT] * v[CLB_P_WPT]);
  if (strcmp(point->space->kernel, "XgemmDirect") == 0)
    return (double)(v[CLB_D_WGD] / v[CLB_D_MDIMCD]) * (double)(v[CLB_D_WGD] / v[CLB_D_NDIMCD]) *
           (double)v[CLB_D_KWID];
  return (double)(v[CLB_X_MWG] / v[CLB_X_MDIMC]) * (double)(v[CLB_X_NWG] / v[CLB_X_NDIMC]) *
         (double)(v[CLB_X_KWI] * v[CLB_X_KREG]);
}

/* Points already measured, as (space number << 32) | index, with their scores. */
struct measured {
  uint64_t key;
  double score;
};
struct seen {
  struct measured *items;
  size_t count, capacity;
};

/* A point's key, or UINT64_MAX when its values are not in any of the spaces. */
static uint64_t point_key(const struct clb_tune_space *const *spaces, size_t space_count,
                          const struct clb_tune_point *point) {
  for (size_t s = 0; s < space_count; s++) {
    if (spaces[s] != point->space)
      continue;
    uint64_t index = 0;
    for (size_t p = 0; p < point->space->count; p++) {
      const struct clb_tune_param *param = &point->space->params[p];
      size_t at = 0;
      while (at < param->count && param->values[at] != point->values[p])
        at++;
      if (at == param->count)
        return UINT64_MAX;
      index = index * param->count + at;
    }
    return ((uint64_t)s << 32) | index;
  }
  return UINT64_MAX;
}

/* The score of a measured point in *score; 0 when it was not measured. */
static int seen_find(const struct seen *seen, uint64_t key, double *score) {
  for (size_t i = 0; i < seen->count; i++)
    if (seen->items[i].key == key) {
      if (score)
        *score = seen->items[i].score;
      return 1;
    }
  return 0;
}

static int seen_add(struct seen *seen, uint64_t key, double score) {
  struct measured *grown =
      clb_grow(seen->items, &seen->capacity, seen->count + 1, sizeof *grown, 64);
  if (!grown)
    return CLB_E_NOMEM;
  seen->items = grown;
  seen->items[seen->count++] = (struct measured){key, score};
  return 0;
}

/* Candidates of one round: seeds or a neighbourhood, most promising first,
 * then cheapest compile. */
struct queued {
  struct clb_tune_point point;
  uint64_t key;
  double promise, cost;
};
struct queue {
  struct queued *items;
  size_t count, capacity;
};

/* Adds a point that is legal, in the spaces, not measured and not queued
 * yet; returns 0 also when it is left out. */
static int queue_offer(struct queue *q, const struct seen *seen,
                       const struct clb_tune_space *const *spaces, size_t space_count,
                       const struct clb_tune_limits *lim, const struct clb_tune_point *point,
                       double promise) {
  uint64_t key = point_key(spaces, space_count, point);
  if (key == UINT64_MAX || !point->space->legal(point->values, lim) || seen_find(seen, key, NULL))
    return 0;
  for (size_t i = 0; i < q->count; i++)
    if (q->items[i].key == key)
      return 0;
  if (q->count == q->capacity) {
    struct queued *grown = clb_grow(q->items, &q->capacity, q->count + 1, sizeof *grown, 64);
    if (!grown)
      return CLB_E_NOMEM;
    q->items = grown;
  }
  q->items[q->count++] = (struct queued){*point, key, promise, clb_tune_compile_cost(point)};
  return 0;
}

static int queued_before(const struct queued *a, const struct queued *b) {
  return a->promise != b->promise ? a->promise > b->promise : a->cost < b->cost;
}

/* Stable insertion sort: neighbourhoods hold a few hundred points. */
static void queue_sort(struct queue *q) {
  for (size_t i = 1; i < q->count; i++) {
    struct queued item = q->items[i];
    size_t j = i;
    for (; j > 0 && queued_before(&item, &q->items[j - 1]); j--)
      q->items[j] = q->items[j - 1];
    q->items[j] = item;
  }
}

/* The centre of a neighbourhood and what is known around it. */
struct centre {
  struct clb_tune_point point;
  double score;
  const struct clb_tune_space *const *spaces;
  size_t space_count;
  const struct seen *seen;
};

/* How much changing only parameter p to `value` gained over the centre, as
 * measured: 0 when not measured (or not legal alone), minus the centre's
 * score when it failed. */
static double single_gain(const struct centre *c, size_t p, size_t value) {
  struct clb_tune_point single = c->point;
  single.values[p] = value;
  double score = 0.0;
  if (!seen_find(c->seen, point_key(c->spaces, c->space_count, &single), &score))
    return 0.0;
  return score - c->score;
}

/* Every point that differs from the centre in exactly `radius` (1 or 2)
 * parameters. Two-parameter changes are ordered by what their two
 * one-parameter halves gained when measured alone (a first-order guess):
 * the cheap ones first would spend the budget on smaller tiles and vectors,
 * which seldom help, while the larger tile and wider vector that help
 * together come last. */
static int queue_neighbours(struct queue *q, const struct centre *c,
                            const struct clb_tune_limits *lim, size_t radius) {
  const struct clb_tune_space *space = c->point.space;
  const size_t *at = c->point.values;
  struct clb_tune_point next = c->point;
  for (size_t p = 0; p < space->count; p++) {
    const struct clb_tune_param *first = &space->params[p];
    for (size_t a = 0; a < first->count; a++) {
      if (first->values[a] == at[p])
        continue;
      next.values[p] = first->values[a];
      if (radius == 1 && queue_offer(q, c->seen, c->spaces, c->space_count, lim, &next, 0.0) != 0)
        return CLB_E_NOMEM;
      for (size_t r = p + 1; radius == 2 && r < space->count; r++) {
        const struct clb_tune_param *second = &space->params[r];
        for (size_t b = 0; b < second->count; b++) {
          if (second->values[b] == at[r])
            continue;
          next.values[r] = second->values[b];
          double promise =
              single_gain(c, p, first->values[a]) + single_gain(c, r, second->values[b]);
          if (queue_offer(q, c->seen, c->spaces, c->space_count, lim, &next, promise) != 0)
            return CLB_E_NOMEM;
        }
        next.values[r] = at[r];
      }
      next.values[p] = at[p];
    }
  }
  queue_sort(q);
  return 0;
}

struct walk {
  const struct clb_tune_walk_callbacks *callbacks;
  size_t max_measured;
  struct clb_tune_walk_result *result;
  struct seen seen;
};

static int budget_left(const struct walk *w) {
  return w->result->measured < w->max_measured && !w->callbacks->should_stop(w->callbacks->context);
}

#define MAX_PREPARE 16

/* At the start of each batch, hands the batch's candidates to `prepare`. */
static int prepare_batch(const struct walk *w, const struct queue *q, size_t at,
                         struct clb_error *err) {
  const struct clb_tune_walk_callbacks *c = w->callbacks;
  size_t batch = c->prepare_batch < MAX_PREPARE ? c->prepare_batch : MAX_PREPARE;
  if (!c->prepare || batch < 2 || at % batch != 0)
    return 0;
  size_t room = w->max_measured - w->result->measured;
  struct clb_tune_point points[MAX_PREPARE];
  size_t count = 0;
  for (size_t i = at; i < q->count && count < batch && count < room; i++)
    points[count++] = q->items[i].point;
  return count > 1 ? c->prepare(c->context, points, count, err) : 0;
}

/* Measures q->items[at]; *score 0 when skipped. */
static int measure_one(struct walk *w, const struct queue *q, size_t at, const char *phase,
                       size_t radius, double *score, struct clb_error *err) {
  int prepared = prepare_batch(w, q, at, err);
  if (prepared != 0)
    return prepared;
  struct clb_tune_step step = {phase, w->result->measured + 1, radius, q->count - at,
                               w->result->best_score};
  *score = 0.0;
  int rc = w->callbacks->measure(w->callbacks->context, &q->items[at].point, &step, score, err);
  if (rc != 0)
    return rc;
  if (seen_add(&w->seen, q->items[at].key, *score) != 0)
    return clb_failf(err, CLB_E_NOMEM, "out of host memory for the tuner's list");
  w->result->measured++;
  if (*score > w->result->best_score) {
    w->result->best_score = *score;
    w->result->best = q->items[at].point;
  }
  return 0;
}

int clb_tune_walk(const struct clb_tune_space *const *spaces, size_t space_count,
                  const struct clb_tune_limits *lim, const struct clb_tune_point *seeds,
                  size_t seed_count, size_t max_measured, double min_gain,
                  const struct clb_tune_walk_callbacks *callbacks,
                  struct clb_tune_walk_result *result, struct clb_error *err) {
  int rc = 0;
  struct queue q = {0};
  memset(result, 0, sizeof *result);
  struct walk w = {callbacks, max_measured, result, {0}};
  for (size_t i = 0; i < seed_count; i++)
    if (queue_offer(&q, &w.seen, spaces, space_count, lim, &seeds[i], 0.0) != 0)
      goto out_of_memory;
  for (size_t i = 0; i < q.count && budget_left(&w); i++) {
    double score;
    CLB_TRY(measure_one(&w, &q, i, "seed", 0, &score, err));
  }
  if (result->best_score <= 0.0)
    goto cleanup;
  /* First improvement: the first neighbour clearly better becomes the
   * centre, and its neighbourhood starts again from radius 1. */
  struct centre centre = {result->best, result->best_score, spaces, space_count, &w.seen};
  size_t radius = 1;
  while (budget_left(&w)) {
    q.count = 0;
    if (queue_neighbours(&q, &centre, lim, radius) != 0)
      goto out_of_memory;
    int moved = 0;
    for (size_t i = 0; i < q.count && !moved && budget_left(&w); i++) {
      double score;
      CLB_TRY(measure_one(&w, &q, i, "walk", radius, &score, err));
      if (score > centre.score * (1.0 + min_gain)) {
        centre.point = q.items[i].point;
        centre.score = score;
        result->improvements++;
        moved = 1;
      }
    }
    if (moved) {
      radius = 1;
      continue;
    }
    if (!budget_left(&w))
      break;
    if (radius == 2) {
      result->converged = 1;
      break;
    }
    radius = 2;
  }
cleanup:
  free(q.items);
  free(w.seen.items);
  return rc;
out_of_memory:
  rc = clb_failf(err, CLB_E_NOMEM, "out of host memory listing %s configurations",
                 spaces[0]->kernel);
  goto cleanup;
}
