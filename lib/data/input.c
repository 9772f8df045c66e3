/* Network input from stored images: a window (the random or centre crop of a padded aligned face),
   a mirror, a channel order and the model's normalisation, in one pass over planar bytes. */
#include "data/data_internal.h"

#include <stdlib.h>

void scl__pixels_window(const unsigned char *px, int channels, int h, int w, int mirror, int top, int left, int height,
                        int width, const int *order, float mean, float scale, float *out) {
  const size_t W = (size_t)w, plane = (size_t)h * W;
  for (int c = 0; c < channels; c++) {
    const unsigned char *src = px + (size_t)(order ? order[c] : c) * plane;
    for (int y = 0; y < height; y++) {
      const unsigned char *row = src + (size_t)(top + y) * W;
      float *dst = out + ((size_t)c * height + y) * (size_t)width;
      /* Mirroring the whole image, then cutting at `left`, reads source column w − 1 − (left + x). */
      if (mirror)
        for (int x = 0; x < width; x++) dst[x] = ((float)row[W - 1 - (size_t)(left + x)] - mean) * scale;
      else
        for (int x = 0; x < width; x++) dst[x] = ((float)row[left + x] - mean) * scale;
    }
  }
}

scl_status scl_image_load_input(const char *path, const scl_input_format *fmt, int channels, int height, int width,
                                float *out) {
  if (!path || !fmt || !out)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_image_load_input: %s is NULL",
                           !path ? "path" : !fmt ? "fmt" : "out");
  if (channels != 1 && channels != 3)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_image_load_input: channels is %d, must be 1 or 3", channels);
  const int cropped = fmt->crop_height || fmt->crop_width;
  const int sh = cropped ? fmt->crop_height : height, sw = cropped ? fmt->crop_width : width;
  if (height < 1 || width < 1 || sh < height || sw < width || sh > SCL_IMAGE_MAX_SIDE || sw > SCL_IMAGE_MAX_SIDE)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT,
                           "scl_image_load_input: input %dx%d cut from stored %dx%d (sizes 1..%d, the stored size at "
                           "least the input)",
                           height, width, sh, sw, SCL_IMAGE_MAX_SIDE);
  if (fmt->order != SCL_CHANNELS_RGB && fmt->order != SCL_CHANNELS_BGR)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_image_load_input: channel order %d is unknown",
                           (int)fmt->order);
  scl_image img;
  scl_status st = scl__image_decode(path, &img);
  if (st != SCL_OK) return st;
  if (img.height != sh || img.width != sw)
    st = scl__fail_noctx(SCL_ERR_SHAPE, "image %s is %dx%d (width x height); the model takes %dx%d images%s", path,
                         img.width, img.height, sw, sh, cropped ? " (aligned crops it cuts its input from)" : "");
  else if (img.channels == 1 && channels == 3)
    /* A colour model fed grey replicas would see faces unlike any it learnt from. */
    st = scl__fail_noctx(SCL_ERR_SHAPE, "image %s is grey; the model takes colour (%s) images", path,
                         fmt->order == SCL_CHANNELS_BGR ? "BGR" : "RGB");
  unsigned char *px = st == SCL_OK ? malloc((size_t)channels * (size_t)sh * (size_t)sw) : NULL;
  if (st == SCL_OK && !px) st = scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "scl_image_load_input: out of host memory");
  if (st == SCL_OK) scl__image_to_planar(&img, channels, px); /* colour into a grey model: luminance */
  scl__image_free(&img);
  if (st == SCL_OK) {
    static const int bgr[3] = {2, 1, 0};
    const int *order = channels == 3 && fmt->order == SCL_CHANNELS_BGR ? bgr : NULL;
    scl__pixels_window(px, channels, sh, sw, 0, (sh - height) / 2, (sw - width) / 2, height, width, order, fmt->mean,
                       fmt->scale, out);
  }
  free(px);
  return st;
}
