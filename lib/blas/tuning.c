/* CLBlast parameter overrides: the entry format, SPHERECL_TUNING files and the per-device cache
   that `spherecl tune` writes (header section 9 documents the behaviour).

   Entry format (text, one entry per line; '#' starts a comment; blank lines ignored):

       [pthread]                      # optional section: the entries below apply only to devices whose
                                      # "platform: device" contains this text (case-insensitive);
                                      # entries before any section apply to every device
       Xgemm 32 GEMMK=0 KREG=1 KWG=32 KWI=2 MDIMA=16 MDIMC=16 MWG=128 NDIMB=16 NDIMC=16 NWG=128 SA=1 SB=1 STRM=1 STRN=1 VWM=8 VWN=8

   Each entry is a CLBlast kernel name, a precision in bits (16, 32, 64, 3232, 6464), then every
   parameter of that kernel as NAME=VALUE. CLBlast refuses an entry that misses a parameter
   (CLBlastMissingOverrideParameter); the error names the origin and line. Some parameter sets crash
   PoCL's compiler, so only sets that were tested on the device belong in such a file.

   A cache file is the same format after two header lines that name what it was made for:
       # spherecl tuning 1
       # device: PLATFORM | DEVICE | DRIVER VERSION
   A cache whose device line differs (a new driver) is stale and ignored, with a warning.
   Two entries are spherecl's own, not CLBlast's: "Conv2d 32 WINOGRAD=M" runs 3x3 stride-1
   convolutions by Winograd F(M×M, 3×3), M = 2 or 4, or not at all (0); SPHERECL_WINOGRAD=0, 2 or 4
   overrides it. "Gemm 32 ROWS=R COLS=C" sends GEMMs with an untransposed B to spherecl's own
   kernel with an R x C tile (gemm_own.c; 0 and 0: CLBlast); SPHERECL_GEMM=RxC or clblast overrides it.
   "Conv2dDirect 32 BELOW_CHANNELS=C" leaves the 3x3 stride-1 layers with fewer than C input
   channels to the implicit GEMMs (lib/ops/conv2d_direct.c) where those run, not to Winograd. */
#include "internal.h"

#include <clblast_c.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCL_MAX_TUNING_PARAMS 32
#define SCL_GEMM_CPU_ROWS 8 /* the GEMM kernel's tile on an untuned CPU */
#define SCL_GEMM_CPU_COLS 32
#define SCL_TUNING_MAGIC "# spherecl tuning 1"
#define SCL_TUNING_FILE_MAX ((long)1 << 20)

static int section_matches(const char *label, const char *section) {
  size_t n = strlen(section);
  for (const char *h = label; *h; h++) {
    size_t i = 0;
    while (i < n && h[i] && tolower((unsigned char)h[i]) == tolower((unsigned char)section[i])) i++;
    if (i == n) return 1;
  }
  return n == 0;
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
  return s;
}

static size_t gcd(size_t a, size_t b) { return b ? gcd(b, a % b) : a; }
static size_t lcm(size_t a, size_t b) { return a && b ? a / gcd(a, b) * b : a ? a : b; }

static size_t param(const char *const *names, const size_t *values, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(names[i], name)) return values[i];
  return 0;
}

/* What the GEMM callers need to know of an applied entry: the tile that makes an Xgemm call copy
   nothing (GEMMK=1 only: with GEMMK=0 a row-major C is always transposed) and the direct/indirect
   threshold. */
static void remember(scl_context ctx, const char *kernel, long prec, const char *const *names,
                     const size_t *values, size_t n) {
  if (prec != 32) return;
  if (!strcmp(kernel, "Xgemm")) {
    size_t gemmk = param(names, values, n, "GEMMK"), kreg = param(names, values, n, "KREG");
    size_t kwg = param(names, values, n, "KWG") * (kreg ? kreg : 1);
    ctx->gemm_tile = gemmk == 1 ? lcm(lcm(param(names, values, n, "MWG"), param(names, values, n, "NWG")), kwg) : 1;
    if (!ctx->gemm_tile) ctx->gemm_tile = 1;
  } else if (!strcmp(kernel, "GemmRoutine")) {
    ctx->gemm_min_indirect = param(names, values, n, "XGEMM_MIN_INDIRECT_SIZE");
  }
}

/* Parses one entry line ("Kernel PREC A=1 B=2 ...") and applies it. */
static scl_status apply_line(scl_context ctx, const char *origin, int lineno, char *line) {
  char *save = NULL;
  char *kernel = strtok_r(line, " \t", &save);
  char *prec_s = strtok_r(NULL, " \t", &save);
  char *end = NULL;
  long prec = prec_s ? strtol(prec_s, &end, 10) : 0;
  if (!kernel || !prec_s || *end || (prec != 16 && prec != 32 && prec != 64 && prec != 3232 && prec != 6464))
    return scl__fail(ctx, SCL_ERR_FORMAT,
                     "%s:%d: expected \"KERNEL PRECISION NAME=VALUE...\" with precision 16, 32, 64, 3232 or 6464",
                     origin, lineno);
  const char *names[SCL_MAX_TUNING_PARAMS];
  size_t values[SCL_MAX_TUNING_PARAMS];
  size_t n = 0;
  for (char *tok; (tok = strtok_r(NULL, " \t", &save));) {
    char *eq = strchr(tok, '=');
    if (!eq || eq == tok || !eq[1])
      return scl__fail(ctx, SCL_ERR_FORMAT, "%s:%d: \"%s\" is not NAME=VALUE", origin, lineno, tok);
    *eq = '\0';
    errno = 0;
    unsigned long long v = strtoull(eq + 1, &end, 10);
    if (*end || errno || eq[1] == '-' || v > 1u << 30)
      return scl__fail(ctx, SCL_ERR_FORMAT, "%s:%d: the value of %s is not an integer in 0..2^30", origin, lineno,
                       tok);
    if (n == SCL_MAX_TUNING_PARAMS)
      return scl__fail(ctx, SCL_ERR_FORMAT, "%s:%d: more than %d parameters", origin, lineno, SCL_MAX_TUNING_PARAMS);
    names[n] = tok;
    values[n++] = (size_t)v;
  }
  if (n == 0) return scl__fail(ctx, SCL_ERR_FORMAT, "%s:%d: no parameters for %s", origin, lineno, kernel);
  if (!strcmp(kernel, "Conv2d")) { /* spherecl's own entry, not CLBlast's */
    if (n != 1 || strcmp(names[0], "WINOGRAD") || (values[0] != 0 && values[0] != 2 && values[0] != 4))
      return scl__fail(ctx, SCL_ERR_FORMAT, "%s:%d: Conv2d takes one parameter, WINOGRAD=0, 2 or 4", origin,
                       lineno);
    if (!getenv("SPHERECL_WINOGRAD")) ctx->winograd = (int)values[0];
    return SCL_OK;
  }
  if (!strcmp(kernel, "Conv2dDirect")) { /* spherecl's own: which 3x3 stride-1 layers skip Winograd */
    if (n != 1 || strcmp(names[0], "BELOW_CHANNELS"))
      return scl__fail(ctx, SCL_ERR_FORMAT, "%s:%d: Conv2dDirect takes one parameter, BELOW_CHANNELS=C", origin,
                       lineno);
    ctx->winograd_min_c = values[0];
    return SCL_OK;
  }
  if (!strcmp(kernel, "Gemm")) { /* spherecl's own GEMM kernel, not CLBlast's */
    const size_t rows = param(names, values, n, "ROWS"), cols = param(names, values, n, "COLS");
    const int tile = scl__gemm_own_tile((int)rows, (int)cols);
    if (n != 2 || (!tile && (rows || cols))) {
      char tiles[128];
      scl__gemm_own_tiles(tiles, sizeof tiles);
      return scl__fail(ctx, SCL_ERR_FORMAT, "%s:%d: Gemm takes ROWS=R COLS=C, a tile among %s (or 0 and 0: CLBlast)",
                       origin, lineno, tiles);
    }
    const char *forced = getenv("SPHERECL_GEMM");
    if (!forced || !*forced) ctx->gemm_own = tile;
    return SCL_OK;
  }
  CLBlastStatusCode code = CLBlastOverrideParameters(ctx->device, kernel, (CLBlastPrecision)prec, n, names, values);
  if (code != CLBlastSuccess)
    return scl__fail(ctx, (scl_status)code, "%s:%d: CLBlast refused the parameters for %s: %s", origin, lineno,
                     kernel, scl_status_string((scl_status)code));
  remember(ctx, kernel, prec, names, values, n);
  return SCL_OK;
}

scl_status scl__tuning_apply_text(scl_context ctx, const char *text, const char *origin, int *applied) {
  *applied = 0;
  char section[256] = "";
  int lineno = 0;
  scl_status st = SCL_OK;
  for (const char *p = text; st == SCL_OK && *p;) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    char buf[2048];
    lineno++;
    if (len >= sizeof buf) return scl__fail(ctx, SCL_ERR_FORMAT, "%s:%d: line too long", origin, lineno);
    memcpy(buf, p, len);
    buf[len] = '\0';
    p += len + (nl != NULL);
    if (memchr(buf, '\0', len)) return scl__fail(ctx, SCL_ERR_FORMAT, "%s:%d: NUL byte", origin, lineno);
    char *hash = strchr(buf, '#');
    if (hash) *hash = '\0';
    char *line = trim(buf);
    if (!*line) continue;
    if (*line == '[') {
      char *close = strchr(line, ']');
      if (!close || close[1]) return scl__fail(ctx, SCL_ERR_FORMAT, "%s:%d: a section is written [device text]", origin, lineno);
      *close = '\0';
      snprintf(section, sizeof section, "%s", trim(line + 1));
      continue;
    }
    if (!section_matches(ctx->device_label, section)) continue;
    st = apply_line(ctx, origin, lineno, line);
    if (st == SCL_OK) (*applied)++;
  }
  return st;
}

/* The whole file as a string (caller frees), or NULL with errno set. */
static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = malloc(SCL_TUNING_FILE_MAX + 1);
  size_t n = buf ? fread(buf, 1, SCL_TUNING_FILE_MAX + 1, f) : 0;
  int bad = !buf || ferror(f) || n > (size_t)SCL_TUNING_FILE_MAX;
  fclose(f);
  if (bad) {
    free(buf);
    errno = buf ? EFBIG : ENOMEM;
    return NULL;
  }
  buf[n] = '\0';
  if (strlen(buf) != n) buf[strlen(buf)] = '\n'; /* a NUL byte: make the parser see and name it */
  return buf;
}

scl_status scl__blas_apply_tuning_file(scl_context ctx, const char *path, int *applied) {
  *applied = 0;
  char *text = read_text(path);
  if (!text) return scl__fail(ctx, SCL_ERR_IO, "cannot read the tuning file %s: %s", path, strerror(errno));
  scl_status st = scl__tuning_apply_text(ctx, text, path, applied);
  free(text);
  return st;
}

/* ---- the per-device cache ------------------------------------------------------------------- */

/* "PLATFORM | DEVICE | DRIVER", what a cache file's second line must say. */
static void device_key(const scl_device_info *info, char *buf, size_t size) {
  snprintf(buf, size, "%s | %s | %s", info->platform, info->name, info->driver_version);
}

/* The cache folder: $SPHERECL_CACHE_DIR, else $XDG_CACHE_HOME/spherecl, else $HOME/.cache/spherecl. */
static scl_status cache_dir(char *buf, size_t size) {
  const char *own = getenv("SPHERECL_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  int n = own && *own   ? snprintf(buf, size, "%s", own)
          : xdg && *xdg ? snprintf(buf, size, "%s/spherecl", xdg)
          : home && *home ? snprintf(buf, size, "%s/.cache/spherecl", home)
                          : -1;
  if (n < 0) return scl__fail_noctx(SCL_ERR_IO, "no cache folder: neither XDG_CACHE_HOME nor HOME is set");
  if ((size_t)n >= size) return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "the cache folder's path is too long");
  return SCL_OK;
}

scl_status scl_tuning_cache_path(const scl_device_info *info, char *path, size_t size) {
  if (!info || !path || size == 0) return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_tuning_cache_path: NULL argument");
  char dir[1024], name[300];
  scl_status st = cache_dir(dir, sizeof dir);
  if (st != SCL_OK) return st;
  /* One file per platform and device, named by them with anything but [A-Za-z0-9.-] as '_'. */
  snprintf(name, sizeof name, "%s--%s", info->platform, info->name);
  for (char *c = name; *c; c++)
    if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-') *c = '_';
  if ((size_t)snprintf(path, size, "%s/%s.tuning", dir, name) >= size)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_tuning_cache_path: the path does not fit in %zu bytes", size);
  return SCL_OK;
}

/* Checks a cache file's header against info. NULL when it is this device's, else why not. */
static const char *header_problem(const char *text, const scl_device_info *info) {
  char key[512], want[600];
  device_key(info, key, sizeof key);
  snprintf(want, sizeof want, SCL_TUNING_MAGIC "\n# device: %s\n", key);
  if (strncmp(text, SCL_TUNING_MAGIC "\n", sizeof SCL_TUNING_MAGIC)) return "not a spherecl tuning cache (bad first line)";
  if (strncmp(text, want, strlen(want))) return "stale: made for another device or driver version";
  return NULL;
}

/* The device's cache file (path receives its name): its text when it is this device's (free()), else
   NULL with *why set to the reason a file that exists is not used, or NULL when there is none. */
static char *read_cache(const scl_device_info *info, char path[1200], char *why, size_t why_size) {
  why[0] = '\0';
  if (scl_tuning_cache_path(info, path, 1200) != SCL_OK) return NULL;
  char *text = read_text(path);
  const char *problem = text ? header_problem(text, info) : errno != ENOENT ? strerror(errno) : NULL;
  if (problem) {
    snprintf(why, why_size, "%s: %s", path, problem);
    free(text);
    return NULL;
  }
  return text;
}

int scl_tuning_cache_state(const scl_device_info *info, char *why, size_t size) {
  char path[1200], reason[1400];
  if (why && size) why[0] = '\0';
  if (!info) return 0;
  char *text = read_cache(info, path, reason, sizeof reason);
  if (why && size) snprintf(why, size, "%s", reason);
  free(text);
  return text != NULL;
}

/* Applies the cache of ctx's device if there is a valid one; a stale or corrupt one is ignored
   with a warning on stderr (a tuning cache must never stop a program from running). */
static void apply_cache(scl_context ctx, const scl_device_info *info) {
  char path[1200], why[1400];
  char *text = read_cache(info, path, why, sizeof why);
  int applied = 0;
  if (!text) {
    if (*why) fprintf(stderr, "spherecl: warning: ignoring the tuning cache %s (run spherecl tune again)\n", why);
  } else if (scl__tuning_apply_text(ctx, text, path, &applied) != SCL_OK) {
    fprintf(stderr, "spherecl: warning: ignoring the rest of the tuning cache: %s (run spherecl tune again)\n",
            ctx->message);
    ctx->message[0] = '\0';
  } else {
    ctx->tuning = SCL_TUNING_CACHE;
  }
  free(text);
}

scl_status scl__blas_apply_tuning(scl_context ctx, const scl_device_info *info) {
  ctx->gemm_tile = 1;
  ctx->tuning = SCL_TUNING_NONE;
  ctx->winograd_min_c = 0;
  /* SPHERECL_CONV=direct or im2col forces how conv2d runs the layers Winograd does not take */
  const char *conv = getenv("SPHERECL_CONV");
  ctx->conv_direct = conv && !strcmp(conv, "direct") ? 1 : conv && !strcmp(conv, "im2col") ? 0 : -1;
  /* SPHERECL_WINOGRAD forces Winograd F(2,3) (2), F(4,3) (4) or none (0) over the tuning */
  const char *wino = getenv("SPHERECL_WINOGRAD");
  ctx->winograd = wino && (!strcmp(wino, "2") || !strcmp(wino, "4")) ? atoi(wino) : 0;
  /* SPHERECL_GEMM=RxC forces spherecl's GEMM kernel with that tile, =clblast CLBlast's */
  const char *gemm = getenv("SPHERECL_GEMM");
  int rows = 0, cols = 0;
  ctx->gemm_own = gemm && sscanf(gemm, "%dx%d", &rows, &cols) == 2 ? scl__gemm_own_tile(rows, cols) : 0;
  if (gemm && *gemm && strcmp(gemm, "clblast") && !ctx->gemm_own) {
    char tiles[128];
    scl__gemm_own_tiles(tiles, sizeof tiles);
    return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "SPHERECL_GEMM=%s: give clblast or a tile among %s", gemm, tiles);
  }
  const char *path = getenv("SPHERECL_TUNING");
  if (path && !strcmp(path, "off")) return SCL_OK;
  if (!path || !*path) {
    apply_cache(ctx, info);
    /* An untuned CPU: spherecl's GEMM kernel, which there beats CLBlast's at any parameters
       (bench/README.md); a cache, a file or SPHERECL_TUNING=off says exactly what runs. */
    if (ctx->tuning == SCL_TUNING_NONE && info->type == SCL_DEVICE_CPU && !(gemm && *gemm))
      ctx->gemm_own = scl__gemm_own_tile(SCL_GEMM_CPU_ROWS, SCL_GEMM_CPU_COLS);
    return SCL_OK;
  }
  int applied = 0;
  scl_status st = scl__blas_apply_tuning_file(ctx, path, &applied);
  if (st == SCL_OK) ctx->tuning = SCL_TUNING_FILE;
  return st;
}

scl_tuning_source scl_context_tuning(scl_context ctx) { return ctx ? ctx->tuning : SCL_TUNING_NONE; }

scl_status scl_tuning_apply(scl_context ctx, const char *entries) {
  if (!ctx) return SCL_ERR_INVALID_ARGUMENT;
  if (!entries) return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "scl_tuning_apply: entries is NULL");
  int applied = 0;
  return scl__tuning_apply_text(ctx, entries, "tuning entries", &applied);
}

scl_status scl_tuning_save(const scl_device_info *info, const char *entries) {
  static const char op[] = "scl_tuning_save";
  if (!info || !entries) return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "%s: NULL argument", op);
  char path[1200], key[512];
  scl_status st = scl_tuning_cache_path(info, path, sizeof path);
  if (st != SCL_OK) return st;
  if (!scl__make_parent_dirs(path))
    return scl__fail_noctx(SCL_ERR_IO, "%s: cannot create the folder of %s: %s", op, path, strerror(errno));
  scl__atomic_file af;
  if ((st = scl__atomic_open(&af, path, op))) return st;
  device_key(info, key, sizeof key);
  fprintf(af.f, SCL_TUNING_MAGIC "\n# device: %s\n# written by spherecl tune; delete this file to undo.\n%s", key,
          entries);
  return scl__atomic_commit(&af, op);
}
