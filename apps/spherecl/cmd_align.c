/* spherecl align: aligned face crops from images and their landmarks, as the SphereFace reference
   makes them (least-squares similarity onto the reference points, bilinear warp), written as PNG
   under the same relative paths. */
#include "cli_common.h"
#include "cli_faces.h"
#include "commands.h"
#include "internal.h"
#include "data/data_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PATH_SIZE 4096

static void usage(FILE *f) {
  fprintf(f,
          "usage: spherecl align --root DIR --landmarks FILE --out DIR [--size WxH] [--pad P] [--grey] [--force]\n"
          "                      [--quiet]\n"
          "Aligns every image the landmark file lists: the similarity transform (rotation, scale, shift) that\n"
          "best maps its five landmarks onto the SphereFace reference points, then a bilinear warp into the\n"
          "crop, written as DIR/<same relative path>.png (\"Name/Name_0001.jpg\" -> \"Name/Name_0001.png\").\n"
          "  --landmarks FILE  \"relative/path.jpg x1 y1 ... x5 y5\" per line (LFW's lfw_landmark.txt): left\n"
          "                    eye, right eye, nose tip, left and right mouth corner, as seen in the image\n"
          "  --size WxH        the crop the reference points are placed in (default 96x112, the reference's;\n"
          "                    smaller sizes scale the points, e.g. 48x56)\n"
          "  --pad P           add P pixels on every side, points shifted by P (the reference trains on 96x112\n"
          "                    with --pad 2, i.e. 100x116 crops, and cuts 96x112 at random); default 0\n"
          "  --grey            write grey crops (default: colour, RGB)\n"
          "  --force           redo crops that already exist (default: keep them, counted as skipped)\n"
          "  --quiet           no progress line\n"
          "Images under DIR that the landmark file does not list are reported, never aligned by guesswork.\n"
          "Each crop is written to a temporary name and renamed, so an interrupted run leaves no broken file;\n"
          "rerun the same command to finish it. Exit status 1 if any image failed.\n");
}

typedef struct {
  const char *root, *landmarks, *out;
  int width, height, pad, grey, force, quiet;
} align_opts;

/* out/<rel with its extension replaced by .png>. Returns 0 if it does not fit or rel escapes out. */
static int crop_path(const char *out, const char *rel, char *buf, size_t size) {
  if (rel[0] == '/' || strstr(rel, "..")) return 0;
  const char *dot = strrchr(rel, '.'), *slash = strrchr(rel, '/');
  int stem = (int)(dot && (!slash || dot > slash) ? (size_t)(dot - rel) : strlen(rel));
  int n = snprintf(buf, size, "%s/%.*s.png", out, stem, rel);
  return n > 0 && (size_t)n < size;
}

typedef enum { ALIGNED, SKIPPED, FAILED } outcome;

/* Aligns one listed image; prints why when it fails. */
static outcome align_one(const align_opts *o, const scl_landmarks *e, const float *ref, unsigned char *crop) {
  char src[PATH_SIZE], dst[PATH_SIZE];
  struct stat sb;
  if ((size_t)snprintf(src, sizeof src, "%s/%s", o->root, e->path) >= sizeof src || !crop_path(o->out, e->path, dst, sizeof dst)) {
    fprintf(stderr, "spherecl align: %s: the path is too long or leaves the folder\n", e->path);
    return FAILED;
  }
  if (!o->force && stat(dst, &sb) == 0) return SKIPPED;
  const int ch = o->grey ? 1 : 3, ow = o->width + 2 * o->pad, oh = o->height + 2 * o->pad;
  double m[6];
  scl_image img;
  scl_status st = scl_align_similarity(e->xy, ref, 5, m);
  if (st == SCL_OK) st = scl__image_decode(src, &img);
  if (st != SCL_OK) {
    fprintf(stderr, "spherecl align: %s: %s: %s\n", e->path, scl_status_string(st), scl_context_error(NULL));
    return FAILED;
  }
  if (st == SCL_OK && img.channels == 1 && ch == 3) {
    scl__image_free(&img);
    fprintf(stderr, "spherecl align: %s: the image is grey; colour crops are wanted (--grey makes grey crops)\n",
            e->path);
    return FAILED;
  }
  /* Warp in the image's own channels: straight into the crop, or (colour file, --grey) into a
     scratch image that becomes grey; one grey plane is already the interleaved layout. */
  const int convert = img.channels != ch;
  unsigned char *warped = convert ? malloc((size_t)ow * oh * img.channels) : crop;
  if (!warped) st = scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "out of host memory");
  if (st == SCL_OK) st = scl_align_warp(img.pixels, img.channels, img.height, img.width, m, oh, ow, warped);
  if (st == SCL_OK && convert) {
    scl_image w = {img.channels, oh, ow, warped};
    scl__image_to_planar(&w, ch, crop);
  }
  if (convert) free(warped);
  scl__image_free(&img);
  if (st == SCL_OK && !scl__make_parent_dirs(dst))
    st = scl__fail_noctx(SCL_ERR_IO, "cannot make the folder of %s: %s", dst, strerror(errno));
  if (st == SCL_OK) st = scl__image_write_png(dst, crop, ch, oh, ow);
  if (st != SCL_OK) {
    fprintf(stderr, "spherecl align: %s: %s: %s\n", e->path, scl_status_string(st), scl_context_error(NULL));
    return FAILED;
  }
  return ALIGNED;
}

static int cmp_path(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* Images under root (identity folders) that the landmark file does not list: counted and named. */
static void report_unlisted(const align_opts *o, const scl_landmarks *e, size_t n) {
  scl_folder f;
  if (scl__folder_scan(o->root, 0, 0, &f) != SCL_OK) return; /* not an identity folder: nothing to compare */
  const char **listed = malloc((n ? n : 1) * sizeof *listed);
  if (!listed) {
    scl__folder_free(&f);
    return;
  }
  for (size_t i = 0; i < n; i++) listed[i] = e[i].path;
  qsort(listed, n, sizeof *listed, cmp_path);
  size_t root_len = strlen(o->root), unlisted = 0;
  while (root_len > 1 && o->root[root_len - 1] == '/') root_len--;
  for (size_t c = 0; c < f.nclasses; c++)
    for (size_t j = 0; j < f.classes[c].nfiles; j++) {
      const char *rel = f.classes[c].files[j] + root_len + 1;
      if (bsearch(&rel, listed, n, sizeof *listed, cmp_path)) continue;
      if (++unlisted <= 5) fprintf(stderr, "spherecl align: no landmarks for %s: not aligned\n", rel);
    }
  if (unlisted > 5) fprintf(stderr, "spherecl align: ... %zu images in all have no landmarks\n", unlisted);
  free(listed);
  scl__folder_free(&f);
}

int cmd_align(int argc, char **argv) {
  align_opts o = {NULL, NULL, NULL, 96, 112, 0, 0, 0, 0};
  const char *size_s = NULL, *pad_s = NULL;
  int npos = 0;
  const cli_option opts[] = {{"--root", &o.root, NULL},   {"--landmarks", &o.landmarks, NULL},
                             {"--out", &o.out, NULL},     {"--size", &size_s, NULL},
                             {"--pad", &pad_s, NULL},     {"--grey", NULL, &o.grey},
                             {"--force", NULL, &o.force}, {"--quiet", NULL, &o.quiet},
                             {NULL, NULL, NULL}};
  int rc = cli_parse_options("align", argc, argv, opts, usage, &npos);
  if (rc != CLI_PARSED) return rc;
  if (npos) return cli_usage_error("align", usage, "unexpected argument \"%s\"", argv[0]);
  if (!o.root || !o.landmarks || !o.out) return cli_usage_error("align", usage, "--root, --landmarks and --out are required");
  if (size_s && (!cli_parse_size(size_s, &o.width, &o.height) || o.width > 4096 || o.height > 4096))
    return cli_usage_error("align", usage, "--size wants WxH (1..4096 each), got \"%s\"", size_s);
  long pad = 0;
  if (pad_s && (!cli_parse_long(pad_s, &pad) || pad < 0 || pad > 1024))
    return cli_usage_error("align", usage, "--pad must be 0..1024, got \"%s\"", pad_s);
  o.pad = (int)pad;

  scl_landmarks *e = NULL;
  size_t n = 0;
  scl_status st = scl_landmarks_read(o.landmarks, &e, &n);
  if (st != SCL_OK) {
    cli_report("align", NULL, st);
    return 1;
  }
  if (e[0].npoints != 5) {
    fprintf(stderr, "spherecl align: %s has %d points per image; the reference points are for 5 (eyes, nose, mouth "
                    "corners)\n", o.landmarks, e[0].npoints);
    free(e);
    return 1;
  }
  if (mkdir(o.out, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "spherecl align: cannot make %s: %s\n", o.out, strerror(errno));
    free(e);
    return 1;
  }
  float ref[10];
  scl_align_reference_points(o.width, o.height, o.pad, ref);
  const int ow = o.width + 2 * o.pad, oh = o.height + 2 * o.pad;
  unsigned char *crop = malloc((size_t)ow * oh * 3);
  if (!crop) {
    fprintf(stderr, "spherecl align: out of host memory\n");
    free(e);
    return 1;
  }
  fprintf(stderr, "aligning %zu images of %s into %dx%d %s crops (reference points for %dx%d, pad %d) under %s\n", n,
          o.root, ow, oh, o.grey ? "grey" : "RGB", o.width, o.height, o.pad, o.out);
  report_unlisted(&o, e, n);
  size_t count[3] = {0, 0, 0};
  cli_progress pr;
  cli_progress_start(&pr, "align", n, o.quiet);
  for (size_t i = 0; i < n; i++) {
    count[align_one(&o, &e[i], ref, crop)]++;
    cli_progress_update(&pr, i + 1);
  }
  cli_progress_end(&pr, 1);
  fprintf(stderr, "aligned %zu, skipped %zu (already there), failed %zu, in %.1f s\n", count[ALIGNED], count[SKIPPED],
          count[FAILED], cli_now() - pr.t0);
  free(crop);
  free(e);
  return count[FAILED] ? 1 : 0;
}
