/* Pairs files: write/read round trip, every malformed line reported as SCL_ERR_FORMAT with its line
   number, drawing pairs from synthetic folders (balanced, no repeats, seeded, natural order, the
   identity range) and from the AT&T faces when present, and finding image files by layout. */
#define _XOPEN_SOURCE 700 /* nftw, mkdtemp */
#include "testkit/testkit.h"
#include "verify/verify_internal.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- scratch folders -------------------------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

static void remove_tree(const char *dir) { nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* A new empty folder under /tmp (into dir[64]). */
static void make_temp_dir(char *dir) {
  strcpy(dir, "/tmp/scl_test_pairs_XXXXXX");
  if (!mkdtemp(dir)) tk_fail(__FILE__, __LINE__, "mkdtemp failed");
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (!f) {
    tk_fail(__FILE__, __LINE__, "cannot write %s", path);
    return;
  }
  fputs(text, f);
  fclose(f);
}

/* root/sub/file, with the folder made first; files hold a tiny PGM (only their names matter). */
static void add_image(const char *root, const char *sub, const char *file) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", root, sub);
  mkdir(path, 0755);
  snprintf(path, sizeof path, "%s/%s/%s", root, sub, file);
  write_text(path, "P5\n2 2\n255\n\x01\x02\x03\x04");
}

/* root with identities s1..s<ids>, each with images 1.pgm..<images>.pgm. */
static void make_numbered_folder(const char *root, int ids, int images) {
  for (int i = 1; i <= ids; i++)
    for (int j = 1; j <= images; j++) {
      char sub[32], file[32];
      snprintf(sub, sizeof sub, "s%d", i);
      snprintf(file, sizeof file, "%d.pgm", j);
      add_image(root, sub, file);
    }
}

/* ---- reading and writing ---------------------------------------------------------------------- */

static scl_pair make_pair(const char *a, int i, const char *b, int j, int fold) {
  scl_pair p;
  memset(&p, 0, sizeof p);
  snprintf(p.name_a, sizeof p.name_a, "%s", a);
  snprintf(p.name_b, sizeof p.name_b, "%s", b);
  p.index_a = i, p.index_b = j, p.same = !strcmp(a, b), p.fold = fold;
  return p;
}

static int same_pair(const scl_pair *x, const scl_pair *y) {
  return !strcmp(x->name_a, y->name_a) && !strcmp(x->name_b, y->name_b) && x->index_a == y->index_a &&
         x->index_b == y->index_b && x->same == y->same && x->fold == y->fold;
}

/* Pairs given out of order come back grouped by fold, same before different, in the given order
   within each group; the file reads as LFW's does (tab separated). */
static void pairs_round_trip(scl_context ctx) {
  (void)ctx;
  char dir[64], path[128];
  make_temp_dir(dir);
  snprintf(path, sizeof path, "%s/pairs.txt", dir);
  const scl_pair given[8] = {
      make_pair("Bob", 1, "Carol", 2, 1),   make_pair("Alice", 1, "Alice", 3, 1), make_pair("Dave", 2, "Dave", 4, 0),
      make_pair("Alice", 2, "Bob", 1, 0),   make_pair("Carol", 1, "Carol", 2, 0), make_pair("Bob", 1, "Bob", 2, 1),
      make_pair("Carol", 7, "Dave", 10, 0), make_pair("Eve", 3, "Alice", 1, 1)};
  const int order[8] = {2, 4, 3, 6, 1, 5, 0, 7}; /* fold 0 same, fold 0 different, fold 1 same, ... */
  TK_OK(NULL, scl_pairs_write(path, given, 8, 2));
  scl_pair *got = NULL;
  size_t n = 0;
  int folds = 0;
  TK_OK(NULL, scl_pairs_read(path, &got, &n, &folds));
  TK_CHECK(n == 8 && folds == 2);
  for (size_t i = 0; i < n && i < 8; i++)
    TK_CHECK_MSG(same_pair(&got[i], &given[order[i]]), "pair %zu: %s %d %s %d", i, got[i].name_a, got[i].index_a,
                 got[i].name_b, got[i].index_b);
  free(got);
  FILE *f = fopen(path, "r");
  char text[512] = "";
  if (f) text[fread(text, 1, sizeof text - 1, f)] = '\0', fclose(f);
  const char *head = "2\t2\nDave\t2\t4\nCarol\t1\t2\nAlice\t2\tBob\t1\nCarol\t7\tDave\t10\nAlice\t1\t3\n";
  TK_CHECK_MSG(!strncmp(text, head, strlen(head)), "file:\n%s", text);
  /* Writing again replaces the file whole; no temporary file stays behind. */
  TK_OK(NULL, scl_pairs_write(path, given, 8, 2));
  remove(path);
  TK_CHECK_MSG(rmdir(dir) == 0, "%s holds more than the pairs file", dir);
}

/* LFW's own conventions: tabs, CRLF line ends, runs of spaces, blank lines, no final newline, and
   a one-number header (one fold, as pairsDevTrain.txt). */
static void pairs_read_tolerant(scl_context ctx) {
  (void)ctx;
  char dir[64], path[128];
  make_temp_dir(dir);
  snprintf(path, sizeof path, "%s/p.txt", dir);
  write_text(path, "2\t1\r\nAbel_Pacheco\t1\t4\r\n  Abdel_Madi_Shabneh 1   Dean_Barker\t1\r\n\r\n\nX 3 7\n"
                   "X 2 Y 11");
  scl_pair *p = NULL;
  size_t n = 0;
  int folds = 0;
  TK_OK(NULL, scl_pairs_read(path, &p, &n, &folds));
  TK_CHECK(n == 4 && folds == 2);
  if (n == 4) {
    TK_CHECK(same_pair(&p[0], &(scl_pair){"Abel_Pacheco", "Abel_Pacheco", 1, 4, 1, 0}));
    TK_CHECK(same_pair(&p[1], &(scl_pair){"Abdel_Madi_Shabneh", "Dean_Barker", 1, 1, 0, 0}));
    TK_CHECK(same_pair(&p[2], &(scl_pair){"X", "X", 3, 7, 1, 1}));
    TK_CHECK(same_pair(&p[3], &(scl_pair){"X", "Y", 2, 11, 0, 1}));
  }
  free(p);
  write_text(path, "2\nA 1 2\nB 1 2\nA 1 B 1\nB 2 A 3\n");
  TK_OK(NULL, scl_pairs_read(path, &p, &n, &folds));
  TK_CHECK(n == 4 && folds == 1 && p[3].fold == 0 && !p[3].same);
  free(p);
  remove_tree(dir);
}

/* Every kind of malformed file: SCL_ERR_FORMAT, "path:LINE:" in the message, outputs untouched. */
static void pairs_read_errors(scl_context ctx) {
  (void)ctx;
  static const struct {
    const char *text;
    int line;
    const char *says;
  } cases[] = {
      {"", 1, "empty"},
      {"\n\n", 3, "empty"},
      {"x 300\n", 1, "header"},
      {"2 0\n", 1, "header"},
      {"0 3\n", 1, "header"},
      {"-1 3\n", 1, "header"},
      {"1 2 3\n", 1, "header"},
      {"33 1\n", 1, "header"},
      {"1 1\nA 1\nA 1 B 2\n", 2, "fields"},
      {"1 1\nA 1 2 3\nA 1 B 2\n", 2, "fields"},
      {"1 1\nA 1 2\nA 1 B\n", 3, "fields"},
      {"1 1\nA 1 2\nA 1 2\n", 3, "fields"},
      {"1 1\nA x 2\nA 1 B 2\n", 2, "not a positive integer"},
      {"1 1\nA 1 0\nA 1 B 2\n", 2, "not a positive integer"},
      {"1 1\nA 1 -2\nA 1 B 2\n", 2, "not a positive integer"},
      {"1 1\nA 1 2\nA 1 B 2.5\n", 3, "not a positive integer"},
      {"1 1\nA 1 10000000000\nA 1 B 2\n", 2, "not a positive integer"},
      {"1 1\nA 1 2\nA 1 A 2\n", 3, "twice"},
      {"1 2\nA 1 2\nB 1 2\nA 1 B 2\n", 5, "ends after 3"},
      {"1 1\nA 1 2\n", 3, "ends after 1"},
      {"1 1\nA 1 2\nA 1 B 2\nC 1 2\n", 4, "more lines"},
      {"1 1\n\nA 1 2\n\nA 1 B 2\n\nC\n", 7, "more lines"},
      {"1 1\r\nA 1 2\r\nA 1 B x\r\n", 3, "not a positive integer"},
      {"1 1\nA 1 2\nA\x01 1 B 2\n", 3, "control"},
      {"1 1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 1 2\nA 1 B 2\n",
       2, "longer than 127"},
  };
  char dir[64], path[128];
  make_temp_dir(dir);
  snprintf(path, sizeof path, "%s/bad.txt", dir);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    write_text(path, cases[i].text);
    scl_pair *p = (scl_pair *)&dir; /* sentinels: must stay as they are */
    size_t n = 77;
    int folds = 77;
    scl_status st = scl_pairs_read(path, &p, &n, &folds);
    char where[160];
    snprintf(where, sizeof where, "%s:%d:", path, cases[i].line);
    const char *msg = scl_context_error(NULL);
    TK_CHECK_MSG(st == SCL_ERR_FORMAT && strstr(msg, where) && strstr(msg, cases[i].says),
                 "case %zu: %s, message \"%s\" (want \"%s\" and \"%s\")", i, scl_status_string(st), msg, where,
                 cases[i].says);
    TK_CHECK(p == (scl_pair *)&dir && n == 77 && folds == 77);
  }
  /* A line longer than the reader's buffer. */
  char *huge = malloc(3000);
  memset(huge, 'A', 2999);
  huge[2999] = '\0';
  memcpy(huge, "1 1\n", 4);
  write_text(path, huge);
  free(huge);
  scl_pair *p = NULL;
  size_t n = 0;
  int folds = 0;
  TK_STATUS(NULL, scl_pairs_read(path, &p, &n, &folds), SCL_ERR_FORMAT);
  TK_CHECK(strstr(scl_context_error(NULL), ":2: line longer") != NULL);
  /* A header promising far more pairs than the file holds is refused before allocating them
     (fuzz_text found this one: 29 × 2 × 299992 pairs made it allocate gigabytes). */
  write_text(path, "29\t299992\nBob\t\tBod\t11\n");
  TK_STATUS(NULL, scl_pairs_read(path, &p, &n, &folds), SCL_ERR_FORMAT);
  TK_CHECK(strstr(scl_context_error(NULL), "more than its 22 bytes can hold") != NULL);
  TK_STATUS(NULL, scl_pairs_read(NULL, &p, &n, &folds), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_pairs_read(path, NULL, &n, &folds), SCL_ERR_INVALID_ARGUMENT);
  remove_tree(dir);
  TK_STATUS(NULL, scl_pairs_read(path, &p, &n, &folds), SCL_ERR_IO);
}

static void pairs_write_errors(scl_context ctx) {
  (void)ctx;
  char dir[64], path[128];
  make_temp_dir(dir);
  snprintf(path, sizeof path, "%s/out.txt", dir);
  scl_pair ok[4] = {make_pair("A", 1, "A", 2, 0), make_pair("A", 1, "B", 2, 0), make_pair("C", 1, "C", 2, 1),
                    make_pair("C", 1, "D", 2, 1)};
  scl_pair bad[4];
  const char *what[] = {"unbalanced", "fold out of range", "space in a name", "same flag wrong", "number 0",
                        "different pair, one name"};
  for (int c = 0; c < 6; c++) {
    memcpy(bad, ok, sizeof ok);
    if (c == 0) bad[3] = make_pair("C", 5, "C", 6, 1);
    if (c == 1) bad[3].fold = 2;
    if (c == 2) strcpy(bad[1].name_b, "B B");
    if (c == 3) bad[0].same = 0;
    if (c == 4) bad[2].index_b = 0;
    if (c == 5) strcpy(bad[1].name_b, "A");
    scl_status st = scl_pairs_write(path, bad, 4, 2);
    TK_CHECK_MSG(st == SCL_ERR_INVALID_ARGUMENT, "%s: %s", what[c], scl_status_string(st));
  }
  TK_STATUS(NULL, scl_pairs_write(path, ok, 4, 0), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_pairs_write(path, ok, 4, 3), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_pairs_write(path, ok, 0, 2), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_pairs_write(NULL, ok, 4, 2), SCL_ERR_INVALID_ARGUMENT);
  TK_CHECK_MSG(access(path, F_OK) != 0, "a refused write must not create the file");
  char missing[160];
  snprintf(missing, sizeof missing, "%s/no/such/dir.txt", dir);
  TK_STATUS(NULL, scl_pairs_write(missing, ok, 4, 2), SCL_ERR_IO);
  TK_OK(NULL, scl_pairs_write(path, ok, 4, 2));
  remove(path);
  TK_CHECK(rmdir(dir) == 0);
}

/* ---- making pairs ----------------------------------------------------------------------------- */

/* The same two images, in either order. */
static int same_images(const scl_pair *x, const scl_pair *y) {
  int direct = !strcmp(x->name_a, y->name_a) && x->index_a == y->index_a && !strcmp(x->name_b, y->name_b) &&
               x->index_b == y->index_b;
  int swapped = !strcmp(x->name_a, y->name_b) && x->index_a == y->index_b && !strcmp(x->name_b, y->name_a) &&
                x->index_b == y->index_a;
  return direct || swapped;
}

/* What every made list must satisfy: per fold `per_fold` same then `per_fold` different pairs; no
   two images paired twice anywhere; every image found again by scl_pairs_image_path. */
static void check_made(const char *root, const scl_pair *p, size_t n, int folds, int per_fold) {
  TK_CHECK_MSG(n == (size_t)(2 * folds * per_fold), "%zu pairs, want %d", n, 2 * folds * per_fold);
  for (size_t i = 0; i < n; i++) {
    TK_CHECK_MSG(p[i].fold == (int)(i / (2 * per_fold)) && p[i].same == (int)(i % (2 * per_fold) < (size_t)per_fold),
                 "pair %zu is fold %d same %d", i, p[i].fold, p[i].same);
    TK_CHECK(p[i].same == !strcmp(p[i].name_a, p[i].name_b));
    if (p[i].same) TK_CHECK(p[i].index_a < p[i].index_b);
    for (size_t j = 0; j < i; j++)
      TK_CHECK_MSG(!same_images(&p[i], &p[j]), "pairs %zu and %zu are the same: %s %d %s %d", j, i, p[i].name_a,
                   p[i].index_a, p[i].name_b, p[i].index_b);
    char path[1024];
    TK_STATUS(NULL, scl_pairs_image_path(root, NULL, p[i].name_a, p[i].index_a, path, sizeof path), SCL_OK);
    TK_STATUS(NULL, scl_pairs_image_path(root, NULL, p[i].name_b, p[i].index_b, path, sizeof path), SCL_OK);
  }
}

/* The fold of each identity name (s1..s<ids>), -1 if unused, -2 if in several folds. */
static void folds_of_identities(const scl_pair *p, size_t n, int ids, int *fold_of) {
  for (int i = 0; i <= ids; i++) fold_of[i] = -1;
  for (size_t i = 0; i < n; i++)
    for (int side = 0; side < 2; side++) {
      int id = atoi((side ? p[i].name_b : p[i].name_a) + 1);
      if (id < 1 || id > ids) {
        tk_fail(__FILE__, __LINE__, "unexpected identity %s", side ? p[i].name_b : p[i].name_a);
        continue;
      }
      if (fold_of[id] == -1) fold_of[id] = p[i].fold;
      else if (fold_of[id] != p[i].fold) fold_of[id] = -2;
    }
}

/* s1..s12, four images each; identities 2..11 (natural order: s10 and s11 are in, s12 and s1 are
   not, where byte order would pick s10, s11, s12, s2, ...), two folds: 10 identities >= 2 × 2, so
   each identity is in one fold, five per fold. A fold then has C(4,2)·5 = 30 same pairs and
   (20² − 5·4²)/2 = 160 different ones: 30 per fold is the most, and drawing all 30 must work. */
static void make_synthetic(scl_context ctx) {
  (void)ctx;
  char root[64];
  make_temp_dir(root);
  make_numbered_folder(root, 12, 4);
  scl_pair *p = NULL, *q = NULL;
  size_t n = 0, m = 0;
  TK_OK(NULL, scl_pairs_make(root, 2, 11, 2, 6, 42, &p, &n));
  check_made(root, p, n, 2, 6);
  int fold_of[13], per_fold[2] = {0, 0};
  folds_of_identities(p, n, 12, fold_of);
  TK_CHECK(fold_of[1] == -1 && fold_of[12] == -1);
  for (int id = 2; id <= 11; id++) {
    TK_CHECK_MSG(fold_of[id] >= 0, "s%d is %s", id, fold_of[id] == -1 ? "unused" : "in both folds");
    if (fold_of[id] >= 0) per_fold[fold_of[id]]++;
  }
  TK_CHECK_MSG(per_fold[0] == 5 && per_fold[1] == 5, "identities per fold: %d and %d", per_fold[0], per_fold[1]);

  /* Same seed, same list; another seed, another list. */
  TK_OK(NULL, scl_pairs_make(root, 2, 11, 2, 6, 42, &q, &m));
  TK_CHECK(m == n && !memcmp(p, q, n * sizeof *p));
  free(q);
  TK_OK(NULL, scl_pairs_make(root, 2, 11, 2, 6, 43, &q, &m));
  TK_CHECK(m == n && memcmp(p, q, n * sizeof *p) != 0);
  free(q), free(p);

  /* Every same pair there is. */
  TK_OK(NULL, scl_pairs_make(root, 2, 11, 2, 30, 1, &p, &n));
  check_made(root, p, n, 2, 30);
  free(p);
  p = (scl_pair *)root;
  n = 5;
  TK_STATUS(NULL, scl_pairs_make(root, 2, 11, 2, 31, 1, &p, &n), SCL_ERR_INVALID_ARGUMENT);
  TK_CHECK_MSG(strstr(scl_context_error(NULL), "at most 30") != NULL, "%s", scl_context_error(NULL));
  TK_CHECK(p == (scl_pair *)root && n == 5);
  int most = 0;
  TK_OK(NULL, scl__pairs_max_per_fold(root, 2, 11, 2, 1, &most));
  TK_CHECK(most == 30);

  /* Ten folds over ten identities: fewer than two per fold, so the folds share identities, drawn
     from one pool: 10 × C(4,2) = 60 same pairs, 6 per fold at most. */
  TK_OK(NULL, scl_pairs_make(root, 2, 11, 10, 6, 3, &p, &n));
  check_made(root, p, n, 10, 6);
  free(p);
  TK_STATUS(NULL, scl_pairs_make(root, 2, 11, 10, 7, 3, &p, &n), SCL_ERR_INVALID_ARGUMENT);
  TK_CHECK_MSG(strstr(scl_context_error(NULL), "at most 6") != NULL, "%s", scl_context_error(NULL));

  /* Bad arguments. */
  TK_STATUS(NULL, scl_pairs_make(root, 5, 13, 2, 1, 1, &p, &n), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_pairs_make(root, 6, 5, 2, 1, 1, &p, &n), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_pairs_make(root, 0, 0, 0, 1, 1, &p, &n), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_pairs_make(root, 0, 0, 33, 1, 1, &p, &n), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_pairs_make(root, 0, 0, 2, 0, 1, &p, &n), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_pairs_make(NULL, 0, 0, 2, 1, 1, &p, &n), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_pairs_make(root, 0, 0, 2, 1, 1, NULL, &n), SCL_ERR_INVALID_ARGUMENT);
  char missing[128];
  snprintf(missing, sizeof missing, "%s/nothing", root);
  TK_STATUS(NULL, scl_pairs_make(missing, 0, 0, 2, 1, 1, &p, &n), SCL_ERR_IO);
  remove_tree(root);
}

/* An LFW-style folder: Name_%04d.jpg files; names that the automatic layouts would not find again
   ("Ann_1.jpg", "Ann_0002.JPG", "notes.txt") are not drawn. Ann has 3 usable images, Bo 2, Cy 1, Di 2. */
static void make_lfw_style(scl_context ctx) {
  (void)ctx;
  char root[64];
  make_temp_dir(root);
  const char *files[][2] = {{"Ann", "Ann_0001.jpg"}, {"Ann", "Ann_0003.jpg"}, {"Ann", "Ann_0012.png"},
                            {"Ann", "Ann_1.jpg"},    {"Ann", "Ann_0002.JPG"}, {"Ann", "notes.txt"},
                            {"Bo", "Bo_0001.jpg"},   {"Bo", "Bo_0002.jpg"},   {"Cy", "Cy_0005.jpg"},
                            {"Di", "Di_0001.jpg"},   {"Di", "7.pgm"}};
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) add_image(root, files[i][0], files[i][1]);
  /* One fold over 4 identities: same pairs C(3,2) + 1 + 1 = 5 in all. */
  scl_pair *p = NULL;
  size_t n = 0;
  TK_OK(NULL, scl_pairs_make(root, 0, 0, 1, 5, 9, &p, &n));
  check_made(root, p, n, 1, 5);
  for (size_t i = 0; i < n; i++) {
    const scl_pair *x = &p[i];
    int ok_a = (!strcmp(x->name_a, "Ann") && (x->index_a == 1 || x->index_a == 3 || x->index_a == 12)) ||
               (!strcmp(x->name_a, "Bo") && x->index_a <= 2) || (!strcmp(x->name_a, "Cy") && x->index_a == 5) ||
               (!strcmp(x->name_a, "Di") && (x->index_a == 1 || x->index_a == 7));
    TK_CHECK_MSG(ok_a, "unexpected image %s %d", x->name_a, x->index_a);
  }
  free(p);
  TK_STATUS(NULL, scl_pairs_make(root, 0, 0, 1, 6, 9, &p, &n), SCL_ERR_INVALID_ARGUMENT);
  /* A folder name a pairs file cannot hold. */
  add_image(root, "Ed Wood", "1.pgm");
  TK_STATUS(NULL, scl_pairs_make(root, 0, 0, 1, 1, 9, &p, &n), SCL_ERR_INVALID_ARGUMENT);
  TK_CHECK(strstr(scl_context_error(NULL), "Ed Wood") != NULL);
  remove_tree(root);
}

/* The AT&T faces, identities 31..40 (the evaluation split), ten folds: 45 same pairs per fold is
   every same pair there is (10 × C(10,2) = 450). */
static void make_att(scl_context ctx) {
  (void)ctx;
  const char *data = tk_shared_data();
  char root[512];
  snprintf(root, sizeof root, "%s/att_faces", data ? data : "");
  struct stat sb;
  if (!data || stat(root, &sb) != 0) {
    printf("  (skipped: no AT&T faces under the shared data folder)\n");
    return;
  }
  scl_pair *p = NULL;
  size_t n = 0;
  TK_OK(NULL, scl_pairs_make(root, 31, 40, 10, 45, 1, &p, &n));
  check_made(root, p, n, 10, 45);
  for (size_t i = 0; i < n; i++) {
    int a = atoi(p[i].name_a + 1), b = atoi(p[i].name_b + 1);
    TK_CHECK_MSG(a >= 31 && a <= 40 && b >= 31 && b <= 40, "pair %zu: %s %s", i, p[i].name_a, p[i].name_b);
  }
  free(p);
  int most = 0;
  TK_OK(NULL, scl__pairs_max_per_fold(root, 31, 40, 10, 1, &most));
  TK_CHECK(most == 45);
}

/* ---- image paths ------------------------------------------------------------------------------ */

static void image_paths(scl_context ctx) {
  (void)ctx;
  char root[64], path[256], want[256];
  make_temp_dir(root);
  add_image(root, "Ann", "Ann_0003.jpg");
  add_image(root, "Ann", "3.pgm");
  add_image(root, "Ann", "4.pgm");
  add_image(root, "Bo", "Bo_0012.png");
  add_image(root, "s7", "10.pgm");
  add_image(root, "pct", "a%b_05.pgm");
  struct {
    const char *pattern, *name;
    int index;
    const char *file; /* relative to root */
  } found[] = {
      {NULL, "Ann", 3, "Ann/Ann_0003.jpg"}, /* LFW layout first */
      {NULL, "Ann", 4, "Ann/4.pgm"},
      {NULL, "Bo", 12, "Bo/Bo_0012.png"},
      {NULL, "s7", 10, "s7/10.pgm"},
      {"%n/%i.pgm", "Ann", 3, "Ann/3.pgm"},
      {"%n/%n_%4i.jpg", "Ann", 3, "Ann/Ann_0003.jpg"},
      {"%n/a%%b_%2i.pgm", "pct", 5, "pct/a%b_05.pgm"},
  };
  for (size_t i = 0; i < sizeof found / sizeof *found; i++) {
    snprintf(want, sizeof want, "%s/%s", root, found[i].file);
    scl_status st = scl_pairs_image_path(root, found[i].pattern, found[i].name, found[i].index, path, sizeof path);
    TK_CHECK_MSG(st == SCL_OK && !strcmp(path, want), "case %zu: %s \"%s\" (want %s) %s", i, scl_status_string(st),
                 st == SCL_OK ? path : "", want, scl_context_error(NULL));
  }
  /* A trailing slash on root is not doubled. */
  char slashed[80];
  snprintf(slashed, sizeof slashed, "%s/", root);
  snprintf(want, sizeof want, "%s/s7/10.pgm", root);
  TK_OK(NULL, scl_pairs_image_path(slashed, NULL, "s7", 10, path, sizeof path));
  TK_CHECK_MSG(!strcmp(path, want), "%s", path);

  strcpy(path, "untouched");
  TK_STATUS(NULL, scl_pairs_image_path(root, NULL, "Ann", 5, path, sizeof path), SCL_ERR_IO);
  TK_CHECK(strstr(scl_context_error(NULL), "Ann_0005") != NULL);
  TK_STATUS(NULL, scl_pairs_image_path(root, "%n/%i.jpg", "Ann", 3, path, sizeof path), SCL_ERR_IO);
  TK_STATUS(NULL, scl_pairs_image_path(root, "%n/%x.jpg", "Ann", 3, path, sizeof path), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_pairs_image_path(root, "%n/%", "Ann", 3, path, sizeof path), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_pairs_image_path(root, "%n/%0i.pgm", "Ann", 3, path, sizeof path), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_pairs_image_path(root, NULL, "Ann", 0, path, sizeof path), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_pairs_image_path(root, NULL, "../Ann", 3, path, sizeof path), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_pairs_image_path(root, NULL, "Ann", 3, path, 8), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_pairs_image_path(NULL, NULL, "Ann", 3, path, sizeof path), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_pairs_image_path(root, NULL, NULL, 3, path, sizeof path), SCL_ERR_INVALID_ARGUMENT);
  TK_CHECK(!strcmp(path, "untouched"));
  remove_tree(root);
}

/* ---- the people of a fold (what `train --holdout` leaves out) -------------------------------------- */

static scl_pair mk(const char *a, const char *b, int fold) {
  scl_pair p;
  memset(&p, 0, sizeof p);
  snprintf(p.name_a, sizeof p.name_a, "%s", a);
  snprintf(p.name_b, sizeof p.name_b, "%s", b);
  p.index_a = 1, p.index_b = 2, p.same = !strcmp(a, b), p.fold = fold;
  return p;
}

static void fold_people(scl_context ctx) {
  (void)ctx;
  const scl_pair pairs[] = {mk("Zed", "Zed", 0), mk("Amy", "Amy", 0), mk("Zed", "Bo", 0), mk("Cat", "Amy", 0),
                            mk("Dan", "Dan", 1), mk("Eve", "Fay", 1), mk("Dan", "Gus", 1),
                            mk("Hal", "Hal", 2), mk("Ivy", "Hal", 2)};
  char **names = NULL;
  size_t n = 0;
  TK_OK(NULL, scl_pairs_fold_people(pairs, 9, 0, &names, &n));
  const char *want0[] = {"Amy", "Bo", "Cat", "Zed"};
  TK_CHECK_MSG(n == 4, "fold 1 has %zu people", n);
  for (size_t i = 0; i < n && i < 4; i++) TK_CHECK_MSG(!strcmp(names[i], want0[i]), "%zu: %s", i, names[i]);
  TK_CHECK(names[n] == NULL);
  free(names);
  TK_OK(NULL, scl_pairs_fold_people(pairs, 9, 1, &names, &n));
  const char *want1[] = {"Dan", "Eve", "Fay", "Gus"};
  TK_CHECK(n == 4);
  for (size_t i = 0; i < n && i < 4; i++) TK_CHECK_MSG(!strcmp(names[i], want1[i]), "%zu: %s", i, names[i]);
  free(names);
  names = (char **)1;
  TK_EXPECT_FAIL(scl_pairs_fold_people(pairs, 9, 3, &names, &n), SCL_ERR_INVALID_ARGUMENT,
                 "fold 4 is out of range: the pairs have folds 1..3");
  TK_EXPECT_FAIL(scl_pairs_fold_people(pairs, 9, -1, &names, &n), SCL_ERR_INVALID_ARGUMENT, "fold 0");
  TK_CHECK(names == (char **)1);

  /* LFW View 2: every person of fold K is one that no other fold names, and every name of fold K's
     pairs is in the list (checked by a plain scan of the pairs, not by the sorted list's method). */
  const char *data = tk_shared_data();
  char path[1024];
  scl_pair *lfw = NULL;
  size_t np = 0;
  int folds = 0;
  if (!data) {
    printf("  (LFW part skipped: no ../shared/data)\n");
    return;
  }
  snprintf(path, sizeof path, "%s/lfw/pairs.txt", data);
  if (scl_pairs_read(path, &lfw, &np, &folds) != SCL_OK) {
    printf("  (LFW part skipped: %s)\n", scl_context_error(NULL));
    return;
  }
  TK_CHECK(folds == 10 && np == 6000);
  for (int k = 0; k < 2; k++) {
    TK_OK(NULL, scl_pairs_fold_people(lfw, np, k, &names, &n));
    size_t in_fold = 0, elsewhere = 0;
    for (size_t i = 0; i < np; i++) {
      const char *ab[2] = {lfw[i].name_a, lfw[i].name_b};
      for (int s = 0; s < 2; s++) {
        int found = 0;
        for (size_t j = 0; j < n && !found; j++) found = !strcmp(names[j], ab[s]);
        if (lfw[i].fold == k) in_fold += !found; /* must all be found */
        else elsewhere += found;                 /* must none be found */
      }
    }
    TK_CHECK_MSG(in_fold == 0 && elsewhere == 0 && n > 300,
                 "fold %d: %zu people; %zu of its names missing, %zu names of other folds listed", k + 1, n, in_fold,
                 elsewhere);
    free(names);
  }
  free(lfw);
}

int main(int argc, char **argv) {
  const tk_case cases[] = {{"pairs_round_trip", pairs_round_trip},   {"pairs_read_tolerant", pairs_read_tolerant},
                           {"pairs_read_errors", pairs_read_errors}, {"pairs_write_errors", pairs_write_errors},
                           {"make_synthetic", make_synthetic},       {"make_lfw_style", make_lfw_style},
                           {"make_att", make_att},                   {"image_paths", image_paths},
                           {"fold_people", fold_people}};
  return tk_main(argc, argv, cases, sizeof cases / sizeof *cases);
}
