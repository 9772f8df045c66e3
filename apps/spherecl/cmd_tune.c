/* spherecl tune: searches CLBlast's GEMM parameters for one device and stores the winners in the
   device's tuning cache (header section 9), which every later context on that device applies.

   The search runs in stages over the curated space of lib/blas/tune_space.c: the Xgemm kernel
   (timed on SphereFace-20's convolutions at batch 16, the GEMMs it serves), then XgemmDirect and
   the direct/indirect threshold (timed on conv1.1 and fc5, the GEMMs small enough for the direct
   kernel), then Winograd, then spherecl's own GEMM kernel against CLBlast's as tuned so far (both
   timed on all of them), then which 3x3 stride-1 layers keep Winograd once convolutions run as
   implicit GEMMs. Each candidate, and CLBlast's own choice as the
   baseline, runs in a child process (this program run again with --child, never a fork that goes
   on using the parent's OpenCL state), so that a compiler crash, a hang or a wrong result costs
   that candidate only: the child first checks GEMMs on four shapes against a double-precision
   reference on the host, then times the layers. The fastest correct candidate of each stage is
   kept for the stages after it. A child stops timing once its weighted seconds pass the stage's
   best so far: the rest could only add, so the choice is the same, and on a 2-core Intel CPU
   whose CLBlast candidates ran 5-17 s a step, the whole search had taken 22.5 minutes. Under PoCL
   the children first check and compile a stage's candidates, as many at once as there are cores,
   into PoCL's kernel cache, and are timed one at a time after that, without checking again
   (compile_jobs). */
#include "cli_common.h"
#include "commands.h"
#include "gemm_check.h"
#include "internal.h"
#include "sf20_layers.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ENTRIES 2048
#define TIMED_RUNS 3

static const char *const STAGE_NAMES[SCL_TUNE_STAGES] = {"Xgemm",    "XgemmDirect", "threshold",
                                                          "Winograd", "GEMM kernel", "Winograd layers"};

/* ---- the child: check, then time ------------------------------------------------------------- */

/* Whether a stage is timed on layer i: the Xgemm stage on the layers with large GEMMs, the
   XgemmDirect and threshold stages on those with small ones, the Winograd stage (which moves GEMMs
   across the threshold) and the GEMM-kernel stage on all, the Winograd-layers stage on the layers
   Winograd can take. */
static int stage_times(scl_tune_stage stage, size_t i) {
  const layer *l = &SF20_LAYERS[i];
  int small = l->linear || i == 0; /* the GEMMs of conv1.1 and fc5 go to the direct kernel */
  return !((stage == SCL_TUNE_XGEMM && small) || ((stage == SCL_TUNE_DIRECT || stage == SCL_TUNE_THRESHOLD) && !small) ||
           (stage == SCL_TUNE_CONV_DIRECT && (l->linear || l->stride != 1)));
}

/* Weighted seconds of the layer passes a stage is timed on, each pass the median of TIMED_RUNS
   after a warm-up (with one run, a shared 2-core VM's drift picked winners by noise). bound < 0:
   each pass runs once, untimed (prepare: every kernel compiled and cached). */
static scl_status time_stage(scl_context ctx, scl_tune_stage stage, double bound, double *seconds) {
  *seconds = 0;
  scl_status st = SCL_OK;
  for (size_t i = 0; i < SF20_LAYER_COUNT && st == SCL_OK; i++) {
    if (!stage_times(stage, i)) continue;
    const layer *l = &SF20_LAYERS[i];
    layer_run r;
    st = sf20_make_layer(ctx, l, &r);
    for (r.pass = 0; r.pass < PASSES && st == SCL_OK; r.pass++) {
      if (i == 0 && r.pass == BACKWARD_DATA) continue; /* training never needs it */
      double t = 0;
      if (bound < 0) st = sf20_run_pass(ctx, &r);
      else if ((st = sf20_median_time(ctx, sf20_run_pass, &r, TIMED_RUNS, &t)) == SCL_OK) *seconds += l->count * t;
    }
    if (st == SCL_OK && bound < 0) st = scl_context_finish(ctx);
    sf20_free_layer(&r);
    if (bound > 0 && *seconds > bound) break; /* it cannot win: the rest would only add */
  }
  return st;
}

/* Prints "seconds S", "over S" (stopped once past bound, the best time so far, when bound > 0),
   "prepared" (bound < 0: the checks passed and every pass ran once, untimed) or "error: ..." on
   stdout for the parent; exit code 0 either way. checked: a prepare child already passed the
   checks with these entries (they are deterministic), so they are not run again. */
static int run_child(const char *selector, int stage, const char *entries, int index, double bound, int checked) {
  const char *crash = getenv("SPHERECL_TUNE_CRASH"); /* test hook: this candidate crashes */
  if (crash && atoi(crash) == index) abort();
  setenv("SPHERECL_TUNING", "off", 1);
  unsetenv("SPHERECL_WINOGRAD");
  unsetenv("SPHERECL_GEMM");
  scl_context ctx = NULL;
  if (scl_context_create(selector, &ctx) != SCL_OK) {
    printf("error: %s\n", scl_context_error(NULL));
    return 0;
  }
  static const struct { scl_trans ta, tb; size_t m, n, k; } checks[] = {
      {SCL_NO_TRANS, SCL_NO_TRANS, 512, 512, 768}, /* indirect, whole tiles */
      {SCL_NO_TRANS, SCL_NO_TRANS, 520, 600, 640}, /* indirect, ragged */
      {SCL_NO_TRANS, SCL_TRANS, 16, 300, 700},     /* direct: fc5 forward */
      {SCL_TRANS, SCL_NO_TRANS, 300, 200, 16},     /* direct: fc5 bwd-filter */
  };
  scl_status st = *entries ? scl_tuning_apply(ctx, entries) : SCL_OK;
  for (size_t i = 0; i < sizeof checks / sizeof checks[0] && st == SCL_OK && !checked; i++) {
    double err = 0;
    st = gemm_check(ctx, checks[i].ta, checks[i].tb, checks[i].m, checks[i].n, checks[i].k, 0, &err, NULL);
    if (st == SCL_OK && !(err < 1e-5)) {
      printf("error: wrong results (relative error %.2g at %zux%zux%zu)\n", err, checks[i].m, checks[i].n,
             checks[i].k);
      scl_context_release(ctx);
      return 0;
    }
  }
  double seconds = 0;
  if (st == SCL_OK) st = time_stage(ctx, (scl_tune_stage)stage, bound, &seconds);
  if (st == SCL_OK && bound < 0) printf("prepared\n");
  else if (st == SCL_OK) printf("%s %.6f\n", bound > 0 && seconds > bound ? "over" : "seconds", seconds);
  else printf("error: %s\n", scl_context_error(ctx));
  scl_context_release(ctx);
  return 0;
}

/* ---- the parent: one child per candidate ----------------------------------------------------- */

typedef struct {
  const char *selector;
  int timeout;
  int index;   /* candidates numbered so far (the test hook SPHERECL_TUNE_CRASH names one) */
  int compile; /* children compiling a stage's candidates at once before it is timed (0: none) */
} tune_run;

#define MAX_COMPILE 4

/* What one child reported: ran (a time, or "prepared"), over (a partial time already past the
   bound), or why it gave nothing. */
typedef struct {
  int ran, over;
  double seconds;
  char why[600];
} outcome;

typedef struct {
  pid_t pid;
  int fd; /* the read end of its stdout */
  size_t n;
  double deadline;
  outcome *res;
  char out[4096];
} child;

/* Starts this program again as the child of one candidate (never a fork that goes on using the
   parent's OpenCL state); c->pid < 0 when it could not, with why in res. */
static void child_start(const tune_run *t, int stage, int index, const char *entries, double bound, outcome *res,
                        child *c) {
  c->pid = -1, c->n = 0, c->res = res;
  memset(res, 0, sizeof *res);
  int fd[2];
  if (pipe(fd) != 0) {
    snprintf(res->why, sizeof res->why, "pipe: %s", strerror(errno));
    return;
  }
  char stage_s[8], index_s[16], bound_s[32];
  /* a timing child after the compile phase runs only for a candidate whose prepare child passed */
  const char *checked = t->compile && bound >= 0 ? "1" : "0";
  snprintf(stage_s, sizeof stage_s, "%d", stage);
  snprintf(bound_s, sizeof bound_s, "%.6f", isinf(bound) ? 0.0 : bound);
  snprintf(index_s, sizeof index_s, "%d", index);
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fd[1], STDOUT_FILENO);
    close(fd[0]), close(fd[1]);
    char *const args[] = {"spherecl", "tune", "--child", stage_s, index_s, (char *)(t->selector ? t->selector : ""),
                          (char *)entries, bound_s, (char *)checked, NULL};
    execv("/proc/self/exe", args); /* Linux; elsewhere the path this program was started by */
    execvp(cli_program_path ? cli_program_path : "spherecl", args);
    printf("error: cannot run %s again: %s\n", cli_program_path ? cli_program_path : "spherecl", strerror(errno));
    _exit(1);
  }
  close(fd[1]);
  if (pid < 0) {
    close(fd[0]);
    snprintf(res->why, sizeof res->why, "fork: %s", strerror(errno));
    return;
  }
  c->pid = pid, c->fd = fd[0], c->deadline = cli_now() + t->timeout;
}

/* Reaps a child whose output closed (or filled, or whose time is up: killed) and reads its outcome
   from the first line it printed. */
static void child_finish(const tune_run *t, child *c, int timed_out) {
  if (timed_out) kill(c->pid, SIGKILL);
  close(c->fd);
  int status = 0;
  waitpid(c->pid, &status, 0);
  c->out[c->n] = '\0';
  char *nl = strchr(c->out, '\n');
  if (nl) *nl = '\0';
  outcome *r = c->res;
  if (timed_out) snprintf(r->why, sizeof r->why, "no result within %d s (killed)", t->timeout);
  else if (WIFSIGNALED(status)) snprintf(r->why, sizeof r->why, "crashed (signal %d)", WTERMSIG(status));
  else if (sscanf(c->out, "seconds %lf", &r->seconds) == 1) r->ran = 1;
  else if (sscanf(c->out, "over %lf", &r->seconds) == 1) r->ran = r->over = 1;
  else if (!strcmp(c->out, "prepared")) r->ran = 1;
  else snprintf(r->why, sizeof r->why, "%.500s", *c->out ? c->out : "no result");
}

/* Runs candidates [0, n) of a stage, each in a child, at most `jobs` at once; res[i] receives each
   one's outcome. progress (may be NULL) counts them as they end. */
static void run_children(const tune_run *t, int stage, const int *index, char (*entries)[MAX_ENTRIES], size_t n,
                         double bound, int jobs, outcome *res, cli_progress *progress) {
  child running[MAX_COMPILE];
  size_t next = 0, done = 0, active = 0;
  const size_t most = jobs < 1 ? 1 : jobs > MAX_COMPILE ? MAX_COMPILE : (size_t)jobs;
  for (;;) {
    for (; active < most && next < n; next++) {
      child_start(t, stage, index[next], entries[next], bound, &res[next], &running[active]);
      if (running[active].pid >= 0) active++;
      else if (progress) cli_progress_update(progress, ++done);
    }
    if (active == 0) break;
    struct pollfd p[MAX_COMPILE];
    double soonest = running[0].deadline;
    for (size_t i = 0; i < active; i++) {
      p[i] = (struct pollfd){running[i].fd, POLLIN, 0};
      soonest = running[i].deadline < soonest ? running[i].deadline : soonest;
    }
    const double wait = (soonest - cli_now()) * 1000;
    poll(p, active, wait < 0 ? 0 : (int)wait + 1);
    for (size_t i = active; i-- > 0;) { /* from the end: a finished child's slot takes the last */
      child *c = &running[i];
      int finished = 0, timed_out = 0;
      if (p[i].revents) {
        ssize_t got = read(c->fd, c->out + c->n, sizeof c->out - 1 - c->n);
        finished = got <= 0 || (c->n += (size_t)got) == sizeof c->out - 1;
      }
      if (!finished && cli_now() >= c->deadline) finished = timed_out = 1;
      if (!finished) continue;
      child_finish(t, c, timed_out);
      running[i] = running[--active];
      if (progress) cli_progress_update(progress, ++done);
    }
  }
}

/* How many children compile a stage's candidates at once before any is timed: with PoCL, whose
   kernel cache on disk then serves the timing children, as many as there are cores (at most
   MAX_COMPILE); elsewhere none (without such a cache each child compiles again anyway). On a 2-core
   Intel CPU under PoCL a CLBlast candidate spent ~50 s compiling and ~5 s being timed: one at a
   time, the first search took 17m51s. POCL_KERNEL_CACHE=0 turns PoCL's cache off. */
static int compile_jobs(const char *selector) {
  const char *cache = getenv("POCL_KERNEL_CACHE");
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  scl_context ctx = NULL;
  scl_device_info info;
  if ((cache && !strcmp(cache, "0")) || cores < 2 || scl_context_create(selector, &ctx) != SCL_OK) return 0;
  int pocl = scl__device_info_of(ctx->device, &info) == SCL_OK && strstr(info.platform, "Portable Computing Language");
  scl_context_release(ctx);
  return pocl ? (int)(cores < MAX_COMPILE ? cores : MAX_COMPILE) : 0;
}

/* entries = the winners of the other stages, then cand (may be ""). A Winograd candidate that sets
   its own threshold replaces the threshold stage's. */
static void compose(char *buf, size_t size, char winners[SCL_TUNE_STAGES][512], int stage, const char *cand) {
  buf[0] = '\0';
  const char *wino = stage == SCL_TUNE_WINOGRAD ? cand : winners[SCL_TUNE_WINOGRAD];
  for (int s = 0; s < SCL_TUNE_STAGES; s++) {
    const char *e = s == stage ? cand : winners[s];
    if (s == SCL_TUNE_THRESHOLD && strstr(wino, "GemmRoutine")) continue;
    size_t used = strlen(buf), len = strlen(e);
    if (*e && used + len + 2 <= size) { /* MAX_ENTRIES holds every stage's longest entry */
      memcpy(buf + used, e, len);
      memcpy(buf + used + len, "\n", 2);
    }
  }
}

static int usage(FILE *f, int code) {
  fprintf(f, "usage: spherecl tune [--device SELECTOR] [--quick] [--out FILE] [--timeout SECONDS]\n"
             "Times CLBlast parameter sets, Winograd against im2col for 3x3 convolutions,\n"
             "spherecl's own GEMM kernel against CLBlast's, and which layers keep Winograd, on\n"
             "SphereFace-20's layers (batch 16) on one device and stores the fastest correct choices in\n"
             "the device's tuning cache, which every later run on that device applies\n"
             "(SPHERECL_TUNING=FILE or off overrides it). Each candidate runs in its own process\n"
             "and is checked against a CPU reference first. About 12 minutes on a 2-core CPU\n"
             "(the first run; later ones find the kernels compiled).\n"
             "  --quick     a few candidates per stage (a minute; for tests)\n"
             "  --out FILE  write the entries to FILE (for SPHERECL_TUNING) instead of the cache\n"
             "  --timeout   seconds one candidate may take (default 300)\n");
  return code;
}

int cmd_tune(int argc, char **argv) {
  if (argc == 8 && !strcmp(argv[1], "--child"))
    return run_child(*argv[4] ? argv[4] : NULL, atoi(argv[2]), argv[5], atoi(argv[3]), atof(argv[6]),
                     atoi(argv[7]));
  tune_run t = {NULL, 300, 0, 0};
  const char *out = NULL;
  int quick = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--device") && i + 1 < argc) t.selector = argv[++i];
    else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
    else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) t.timeout = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--quick")) quick = 1;
    else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return usage(stdout, 0);
    else {
      fprintf(stderr, "spherecl tune: unknown option \"%s\"\n\n", argv[i]);
      return usage(stderr, 2);
    }
  }
  if (t.timeout < 1) {
    fprintf(stderr, "spherecl tune: --timeout must be at least 1 second\n");
    return 2;
  }
  t.compile = compile_jobs(t.selector);
  char winners[SCL_TUNE_STAGES][512] = {{0}};
  double best_total[SCL_TUNE_STAGES] = {0}, base_total[SCL_TUNE_STAGES] = {0};
  for (int stage = 0; stage < SCL_TUNE_STAGES; stage++) {
    size_t count = 0;
    const char *const *space = scl__tune_space((scl_tune_stage)stage, &count);
    if (quick) count = count < 2 ? count : 2;
    /* candidate c = 0 is CLBlast's own choice (or the stage's baseline), then space[c - 1] */
    char(*entries)[MAX_ENTRIES] = malloc((count + 1) * sizeof *entries);
    int *index = malloc((count + 1) * sizeof *index);
    outcome *prepared = calloc(count + 1, sizeof *prepared);
    if (!entries || !index || !prepared) {
      free(entries), free(index), free(prepared);
      fprintf(stderr, "spherecl tune: out of memory\n");
      return 1;
    }
    for (size_t c = 0; c <= count; c++) {
      compose(entries[c], sizeof entries[c], winners, stage, c ? space[c - 1] : "");
      index[c] = ++t.index;
    }
    if (t.compile) {
      cli_progress progress;
      char what[96];
      snprintf(what, sizeof what, "[%s] compiling the candidates' kernels, %d at a time", STAGE_NAMES[stage],
               t.compile);
      cli_progress_start(&progress, what, count + 1, 0);
      run_children(&t, stage, index, entries, count + 1, -1.0, t.compile, prepared, &progress);
      cli_progress_end(&progress, 0);
    }
    double best = INFINITY;
    for (size_t c = 0; c <= count; c++) {
      const char *cand = c ? space[c - 1] : "";
      char shown[512];
      snprintf(shown, sizeof shown, "%s",
               c                            ? cand
               : stage == SCL_TUNE_WINOGRAD ? "Winograd off"
               : stage == SCL_TUNE_GEMM     ? "CLBlast's kernels as tuned above"
               : stage == SCL_TUNE_CONV_DIRECT ? "Winograd on every layer it takes"
                                            : "CLBlast's own choice");
      for (char *nl; (nl = strchr(shown, '\n'));) *nl = ';';
      printf("[%s %zu/%zu] %s: ", STAGE_NAMES[stage], c, count, shown);
      fflush(stdout);
      outcome r = prepared[c]; /* a candidate that failed to compile or check is not run again */
      if (!t.compile || r.ran) run_children(&t, stage, &index[c], &entries[c], 1, best, 1, &r, NULL);
      if (r.ran && r.over) {
        printf("over %.3f s, stopped (slower than the best so far)\n", r.seconds);
      } else if (r.ran) {
        printf("%.3f s%s\n", r.seconds, r.seconds < best ? (c ? "  (best so far)" : "") : "");
        if (c == 0) base_total[stage] = r.seconds;
        if (r.seconds < best) {
          best = r.seconds;
          snprintf(winners[stage], sizeof winners[stage], "%s", cand);
        }
      } else {
        printf("skipped: %s\n", r.why);
      }
    }
    free(entries), free(index), free(prepared);
    best_total[stage] = best;
    if (isinf(best)) {
      fprintf(stderr, "spherecl tune: no candidate of the %s stage ran, not even CLBlast's own choice\n",
              STAGE_NAMES[stage]);
      return 1;
    }
  }
  char entries[MAX_ENTRIES];
  compose(entries, sizeof entries, winners, -1, "");
  printf("\nSphereFace-20's convolutions and fc5, batch 16, the passes of a training step: %.3f s tuned,\n"
         "%.3f s with CLBlast's own choices\n",
         best_total[SCL_TUNE_STAGES - 1], base_total[SCL_TUNE_XGEMM] + base_total[SCL_TUNE_DIRECT]);
  if (out) {
    FILE *f = fopen(out, "w");
    if (!f || fputs(entries, f) < 0 || fclose(f) != 0) {
      fprintf(stderr, "spherecl tune: cannot write %s: %s\n", out, strerror(errno));
      return 1;
    }
    printf("wrote %s (use it with SPHERECL_TUNING=%s)\n", out, out);
    return 0;
  }
  scl_context ctx = NULL;
  scl_device_info info;
  setenv("SPHERECL_TUNING", "off", 1);
  scl_status st = scl_context_create(t.selector, &ctx);
  if (st == SCL_OK) st = scl__device_info_of(ctx->device, &info);
  if (st == SCL_OK) st = scl_tuning_save(&info, entries);
  scl_context_release(ctx);
  char path[1200] = "";
  if (st == SCL_OK) scl_tuning_cache_path(&info, path, sizeof path);
  if (st != SCL_OK) {
    fprintf(stderr, "spherecl tune: %s\n", scl_context_error(NULL));
    return 1;
  }
  printf("saved %s\n%s", path, entries);
  return 0;
}
