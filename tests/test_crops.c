/* What training and inference on aligned faces read: image folders filtered by name and image
   count (the fold hold-out), random and centre crops with mirroring, and images loaded as a model's
   input says (stored size, centre crop, channel order, normalisation). Expected values are
   computed here from the bytes written, pixel by pixel. */
#include "data/data_internal.h"
#include "testkit/testkit.h"
#include "testkit/tk_files.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { W = 7, H = 6, C = 3 };

/* The byte of channel c at (x, y) of image `seed`: distinct across positions, channels and images. */
static unsigned char px_at(int seed, int c, int y, int x) { return (unsigned char)((seed * 53 + c * 101 + y * 17 + x * 5) % 256); }

static void write_rgb(const char *path, int seed, int w, int h) {
  unsigned char *p = malloc((size_t)w * h * 3);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++) p[(y * w + x) * 3 + c] = px_at(seed, c, y, x);
  TK_STATUS(NULL, scl__image_write_png(path, p, 3, h, w), SCL_OK);
  free(p);
}

/* People with 1, 2, 3, 4 images: Ann (1), Bob (2), Cy (3), Dee (4); image k of person i has seed 10·i + k. */
static char *make_people(void) {
  char *root = tk_temp_dir("crops"), p[1024], f[1024];
  static const char *names[4] = {"Ann", "Bob", "Cy", "Dee"};
  for (int i = 0; i < 4; i++) {
    tk_make_dir(tk_join(p, sizeof p, root, names[i]));
    for (int k = 1; k <= i + 1; k++) {
      snprintf(f, sizeof f, "%s/%s/%s_%04d.png", root, names[i], names[i], k);
      write_rgb(f, 10 * i + k, W, H);
    }
  }
  return root;
}

static void expect_classes(scl_dataset ds, const char *const *want, int n, size_t images) {
  TK_CHECK_MSG(scl_dataset_classes(ds) == n && scl_dataset_size(ds) == images, "%d classes, %zu images",
               scl_dataset_classes(ds), scl_dataset_size(ds));
  for (int i = 0; i < n && i < scl_dataset_classes(ds); i++)
    TK_CHECK_MSG(!strcmp(scl_dataset_class_name(ds, i), want[i]), "class %d is %s, want %s", i,
                 scl_dataset_class_name(ds, i), want[i]);
}

static void folder_filters(scl_context ctx) {
  (void)ctx;
  char *root = make_people();
  scl_dataset ds = NULL;
  scl_folder_filter f = {0, 0, 2, NULL, 0};
  TK_OK(NULL, scl_dataset_open_folder_filtered(root, &f, &ds));
  expect_classes(ds, (const char *[]){"Bob", "Cy", "Dee"}, 3, 9);
  /* Labels are renumbered over the kept people: sample 0 is Bob's first image. */
  int label = -1;
  size_t idx = 2;
  TK_OK(NULL, scl_dataset_get(ds, &idx, 1, NULL, NULL, &label));
  TK_CHECK_MSG(label == 1, "sample 2 (Cy's first) has label %d", label);
  scl_dataset_release(ds);

  const char *out[] = {"Dee", "Ann", "Nobody"};
  scl_folder_filter g = {0, 0, 0, out, 3};
  TK_OK(NULL, scl_dataset_open_folder_filtered(root, &g, &ds));
  expect_classes(ds, (const char *[]){"Bob", "Cy"}, 2, 5);
  scl_dataset_release(ds);

  scl_folder_filter both = {0, 0, 3, out, 2}; /* Cy is left: 3 images, not excluded */
  TK_OK(NULL, scl_dataset_open_folder_filtered(root, &both, &ds));
  expect_classes(ds, (const char *[]){"Cy"}, 1, 3);
  scl_dataset_release(ds);

  scl_folder_filter range = {2, 3, 3, NULL, 0}; /* Bob..Cy, then at least 3 images */
  TK_OK(NULL, scl_dataset_open_folder_filtered(root, &range, &ds));
  expect_classes(ds, (const char *[]){"Cy"}, 1, 3);
  scl_dataset_release(ds);

  ds = NULL;
  scl_folder_filter none_left = {0, 0, 5, NULL, 0};
  TK_EXPECT_FAIL(scl_dataset_open_folder_filtered(root, &none_left, &ds), SCL_ERR_FORMAT,
                 "none of its 4 identities is left (0 excluded by name, 4 with fewer than 5 images)");
  TK_CHECK(ds == NULL);
  scl_folder_filter neg = {0, 0, -1, NULL, 0};
  TK_EXPECT_FAIL(scl_dataset_open_folder_filtered(root, &neg, &ds), SCL_ERR_INVALID_ARGUMENT, "min_images");
  scl_folder_filter null_list = {0, 0, 0, NULL, 2};
  TK_EXPECT_FAIL(scl_dataset_open_folder_filtered(root, &null_list, &ds), SCL_ERR_INVALID_ARGUMENT, "NULL");
  tk_temp_dir_remove(root);
}

/* out [C, h, w] must be (byte − 127.5)/128 of image `seed`'s window at (top, left), after mirroring
   the whole image when mirror; channel c read from source channel order[c]. */
static void expect_window(const char *what, const float *out, int seed, int mirror, int top, int left, int h, int w,
                          const int order[3], float mean, float scale) {
  int bad = 0;
  for (int c = 0; c < C; c++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        int sx = mirror ? W - 1 - (left + x) : left + x;
        float want = ((float)px_at(seed, order[c], top + y, sx) - mean) * scale;
        float got = out[((size_t)c * h + y) * w + x];
        if (got != want && !bad++)
          tk_fail(__FILE__, __LINE__, "%s: [%d,%d,%d] is %.9g, want %.9g", what, c, y, x, got, want);
      }
}

static void random_and_centre_crops(scl_context ctx) {
  (void)ctx;
  static const int rgb[3] = {0, 1, 2};
  char *root = make_people();
  scl_dataset ds = NULL;
  TK_OK(NULL, scl_dataset_open_folder(root, 0, 0, &ds));
  const size_t idx[4] = {0, 3, 9, 5}; /* Ann 1, Cy 1, Dee 4, Cy 3 */
  const int seeds[4] = {1, 21, 34, 23};
  const unsigned char mirror[4] = {0, 1, 1, 0};
  const int top[4] = {0, 2, 1, 2}, left[4] = {0, 3, 1, 0};
  float out[4 * C * 4 * 4];
  int labels[4];
  TK_OK(NULL, scl_dataset_get_crops(ds, idx, 4, mirror, top, left, 4, 4, out, labels));
  for (int i = 0; i < 4; i++)
    expect_window("random crop", out + i * C * 16, seeds[i], mirror[i], top[i], left[i], 4, 4, rgb, 127.5f,
                  1.0f / 128.0f);
  TK_CHECK(labels[0] == 0 && labels[1] == 2 && labels[2] == 3 && labels[3] == 2);
  /* NULL offsets: the centre, rounding down ((6 − 3)/2 = 1, (7 − 4)/2 = 1). */
  TK_OK(NULL, scl_dataset_get_crops(ds, idx, 2, NULL, NULL, NULL, 3, 4, out, NULL));
  expect_window("centre crop", out, 1, 0, 1, 1, 3, 4, rgb, 127.5f, 1.0f / 128.0f);
  expect_window("centre crop", out + C * 12, 21, 0, 1, 1, 3, 4, rgb, 127.5f, 1.0f / 128.0f);
  /* The full size through get_crops is scl_dataset_get. */
  float a[C * H * W], b[C * H * W];
  TK_OK(NULL, scl_dataset_get_crops(ds, idx + 2, 1, mirror + 2, NULL, NULL, H, W, a, NULL));
  TK_OK(NULL, scl_dataset_get(ds, idx + 2, 1, mirror + 2, b, NULL));
  TK_CHECK(!memcmp(a, b, sizeof a));

  /* Windows that leave the image, and crops larger than it, are refused; nothing is written. */
  for (size_t i = 0; i < sizeof out / sizeof *out; i++) out[i] = TK_SENTINEL;
  const int bad_top[1] = {3}, bad_left[1] = {-1}, ok0[1] = {0};
  TK_EXPECT_FAIL(scl_dataset_get_crops(ds, idx, 1, NULL, bad_top, ok0, 4, 4, out, NULL), SCL_ERR_INVALID_ARGUMENT,
                 "leaves the 6x7 image");
  TK_EXPECT_FAIL(scl_dataset_get_crops(ds, idx, 1, NULL, ok0, bad_left, 4, 4, out, NULL), SCL_ERR_INVALID_ARGUMENT,
                 "leaves");
  TK_EXPECT_FAIL(scl_dataset_get_crops(ds, idx, 1, NULL, NULL, NULL, 7, 4, out, NULL), SCL_ERR_SHAPE, "7x4 crop");
  TK_CHECK(out[0] == TK_SENTINEL && out[C * 16 - 1] == TK_SENTINEL);
  scl_dataset_release(ds);
  tk_temp_dir_remove(root);
}

static void load_as_model_input(scl_context ctx) {
  (void)ctx;
  static const int rgb[3] = {0, 1, 2}, bgr[3] = {2, 1, 0};
  char *dir = tk_temp_dir("input"), path[1024], grey[1024];
  tk_join(path, sizeof path, dir, "face.png");
  write_rgb(path, 5, W, H);
  float out[C * H * W];
  scl_input_format f = {SCL_CHANNELS_RGB, 127.5f, 1.0f / 128.0f, 0, 0};
  TK_OK(NULL, scl_image_load_input(path, &f, 3, H, W, out));
  expect_window("no crop, RGB", out, 5, 0, 0, 0, H, W, rgb, 127.5f, 1.0f / 128.0f);
  /* The same as scl_image_load for the default format. */
  float plain[C * H * W];
  TK_OK(NULL, scl_image_load(path, 3, H, W, plain));
  TK_CHECK(!memcmp(out, plain, sizeof out));
  scl_input_format cropped = {SCL_CHANNELS_BGR, 100.0f, 0.01f, H, W};
  TK_OK(NULL, scl_image_load_input(path, &cropped, 3, 3, 4, out));
  expect_window("centre crop, BGR, other normalisation", out, 5, 0, 1, 1, 3, 4, bgr, 100.0f, 0.01f);

  /* Grey model, colour file: luminance, as the library documents (0.299 R + 0.587 G + 0.114 B). */
  TK_OK(NULL, scl_image_load_input(path, &f, 1, H, W, out));
  int bad = 0;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      int lum = (int)(0.299 * px_at(5, 0, y, x) + 0.587 * px_at(5, 1, y, x) + 0.114 * px_at(5, 2, y, x) + 0.5);
      if (out[y * W + x] != ((float)lum - 127.5f) / 128.0f && !bad++) tk_fail(__FILE__, __LINE__, "grey at %d,%d", y, x);
    }

  /* Refusals: a stored size that is not the model's, a grey file for a colour model. */
  TK_EXPECT_FAIL(scl_image_load_input(path, &cropped, 3, 3, 4, NULL), SCL_ERR_INVALID_ARGUMENT, "out");
  scl_input_format wrong = {SCL_CHANNELS_RGB, 127.5f, 1.0f / 128.0f, H + 2, W + 2};
  TK_EXPECT_FAIL(scl_image_load_input(path, &wrong, 3, H, W, out), SCL_ERR_SHAPE, "is 7x6 (width x height); the model takes 9x8");
  tk_join(grey, sizeof grey, dir, "grey.png");
  unsigned char g[W * H];
  memset(g, 77, sizeof g);
  TK_OK(NULL, scl__image_write_png(grey, g, 1, H, W));
  TK_EXPECT_FAIL(scl_image_load_input(grey, &f, 3, H, W, out), SCL_ERR_SHAPE, "is grey; the model takes colour (RGB)");
  scl_input_format bad_order = {(scl_channel_order)7, 127.5f, 1.0f / 128.0f, 0, 0};
  TK_EXPECT_FAIL(scl_image_load_input(path, &bad_order, 3, H, W, out), SCL_ERR_INVALID_ARGUMENT, "channel order 7");
  tk_temp_dir_remove(dir);
}

int main(int argc, char **argv) {
  const tk_case cases[] = {{"folder_filters", folder_filters},
                           {"random_and_centre_crops", random_and_centre_crops},
                           {"load_as_model_input", load_as_model_input}};
  return tk_main(argc, argv, cases, sizeof cases / sizeof *cases);
}
