/* Separate contexts are independent (the header's promise): two threads train on two contexts at
   once and each gets exactly the weights a single-threaded run gets; messages of calls without a
   context stay with the thread that made them. Run under ThreadSanitizer by ci/tsan.sh. */
#include "testkit/testkit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEPS 6
#define BATCH 4

typedef struct {
  unsigned long long seed;
  float *weights; /* every parameter after training, as scl_net_save would store them */
  size_t nweights;
  scl_status status;
  char message[512];
} job;

/* A small net trained for STEPS steps on batches that depend only on the step, on a new context. */
static void *train_job(void *arg) {
  job *j = arg;
  scl_context ctx = NULL;
  scl_net net = NULL;
  j->status = scl_context_create(NULL, &ctx);
  scl_net_config cfg;
  scl_net_config_default(&cfg);
  cfg.depth = 4, cfg.in_channels = 1, cfg.in_height = 12, cfg.in_width = 12;
  cfg.widths[0] = 4, cfg.widths[1] = 8, cfg.widths[2] = 8, cfg.widths[3] = 16;
  cfg.embed_dim = 8, cfg.num_classes = 3, cfg.seed = j->seed, cfg.lr = 0.05f;
  if (j->status == SCL_OK) j->status = scl_net_create(ctx, &cfg, &net);
  float x[BATCH * 144];
  int y[BATCH];
  for (int it = 0; it < STEPS && j->status == SCL_OK; it++) {
    tk_rng r = tk_rng_make(1000 + (uint64_t)it);
    tk_fill_uniform(&r, x, sizeof x / sizeof *x, -1, 1);
    for (int i = 0; i < BATCH; i++) y[i] = (it + i) % 3;
    j->status = scl_net_train_step(net, x, y, BATCH, NULL);
  }
  /* The weights through the public API: the embedding of fixed images and the logits. */
  if (j->status == SCL_OK) {
    tk_rng r = tk_rng_make(99);
    tk_fill_uniform(&r, x, sizeof x / sizeof *x, -1, 1);
    j->nweights = BATCH * (8 + 3);
    j->weights = malloc(j->nweights * sizeof *j->weights);
    j->status = scl_net_embed(net, x, BATCH, j->weights);
    if (j->status == SCL_OK) j->status = scl_net_logits(net, x, BATCH, j->weights + BATCH * 8);
  }
  if (j->status != SCL_OK) snprintf(j->message, sizeof j->message, "%s", scl_context_error(ctx));
  scl_net_release(net);
  scl_context_release(ctx);
  return NULL;
}

static void two_trainings_at_once(scl_context ctx) {
  (void)ctx;
  job ref[2] = {{.seed = 7}, {.seed = 8}}, par[2] = {{.seed = 7}, {.seed = 8}};
  for (int i = 0; i < 2; i++) {
    train_job(&ref[i]);
    TK_CHECK_MSG(ref[i].status == SCL_OK, "single-threaded run %d: %d %s", i, ref[i].status, ref[i].message);
  }
  pthread_t t[2];
  for (int i = 0; i < 2; i++) TK_CHECK(pthread_create(&t[i], NULL, train_job, &par[i]) == 0);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < 2; i++) {
    TK_CHECK_MSG(par[i].status == SCL_OK, "thread %d: %d %s", i, par[i].status, par[i].message);
    TK_CHECK_MSG(par[i].weights && ref[i].weights && par[i].nweights == ref[i].nweights &&
                     !memcmp(par[i].weights, ref[i].weights, ref[i].nweights * sizeof(float)),
                 "thread %d's results differ from the single-threaded run's", i);
  }
  /* The two seeds gave two different nets (else a mix-up between the threads would go unseen). */
  TK_CHECK(ref[0].weights && ref[1].weights && memcmp(ref[0].weights, ref[1].weights, ref[0].nweights * 4) != 0);
  for (int i = 0; i < 2; i++) free(ref[i].weights), free(par[i].weights);
}

/* Each thread fails calls without a context on its own missing file, many times over, and must
   always read its own file's name back. */
static void *message_job(void *arg) {
  const char *name = arg;
  int wrong = 0;
  for (int i = 0; i < 2000; i++) {
    scl_pair *pairs = NULL;
    size_t n;
    int folds;
    if (scl_pairs_read(name, &pairs, &n, &folds) == SCL_OK) free(pairs);
    if (!strstr(scl_context_error(NULL), name)) wrong++;
  }
  return (void *)(size_t)wrong;
}

static void messages_per_thread(scl_context ctx) {
  (void)ctx;
  const char *names[2] = {"/nonexistent/spherecl-thread-a.txt", "/nonexistent/spherecl-thread-b.txt"};
  pthread_t t[2];
  for (int i = 0; i < 2; i++) TK_CHECK(pthread_create(&t[i], NULL, message_job, (void *)names[i]) == 0);
  for (int i = 0; i < 2; i++) {
    void *wrong = NULL;
    pthread_join(t[i], &wrong);
    TK_CHECK_MSG(wrong == NULL, "thread %d read another thread's message %zu times", i, (size_t)wrong);
  }
}

int main(int argc, char **argv) {
  const tk_case cases[] = {{"two_trainings_at_once", two_trainings_at_once},
                           {"messages_per_thread", messages_per_thread}};
  return tk_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
