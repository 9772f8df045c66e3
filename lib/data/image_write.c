/* Writing images: PNG through libpng, atomically (a temporary sibling renamed over the target), so an
   interrupted `spherecl align` never leaves a half-written face behind. */
#include "data/data_internal.h"

#include <stdio.h>
#include <string.h>

#ifdef SCL_HAVE_PNG
#include <png.h>
#include <setjmp.h>

typedef struct {
  char error[256];
} png_sink;

static void png_write_error(png_structp png, png_const_charp msg) {
  png_sink *s = png_get_error_ptr(png);
  snprintf(s->error, sizeof s->error, "%s", msg);
  png_longjmp(png, 1);
}
static void png_write_warning(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

/* Encodes into an open file; returns SCL_OK or a failure naming path. */
static scl_status encode_png(FILE *f, const char *path, const unsigned char *pixels, int channels, int height,
                             int width) {
  png_sink sink = {""};
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, png_write_error, png_write_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!info) {
    png_destroy_write_struct(png ? &png : NULL, NULL);
    return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "out of host memory encoding %s", path);
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return scl__fail_noctx(SCL_ERR_IO, "writing PNG %s failed: %s", path, sink.error);
  }
  png_init_io(png, f);
  /* Faces are small and written once: a fast setting saves most of the time at little size. */
  png_set_compression_level(png, 3);
  png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
               channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < height; y++)
    png_write_row(png, (png_const_bytep)(pixels + (size_t)y * (size_t)width * (size_t)channels));
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return SCL_OK;
}
#endif

scl_status scl__image_write_png(const char *path, const unsigned char *pixels, int channels, int height, int width) {
  if (!path || !pixels) return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "writing a PNG: %s is NULL", path ? "pixels" : "path");
  if ((channels != 1 && channels != 3) || height < 1 || width < 1 || height > SCL_IMAGE_MAX_SIDE ||
      width > SCL_IMAGE_MAX_SIDE)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "writing PNG %s: %d channels, %dx%d (1 or 3 channels, 1..%d)", path,
                           channels, height, width, SCL_IMAGE_MAX_SIDE);
#ifdef SCL_HAVE_PNG
  scl__atomic_file af;
  scl_status st = scl__atomic_open(&af, path, "writing PNG");
  if (st != SCL_OK) return st;
  st = encode_png(af.f, path, pixels, channels, height, width);
  if (st != SCL_OK) {
    scl__atomic_abort(&af);
    return st;
  }
  return scl__atomic_commit(&af, "writing PNG");
#else
  return scl__fail_noctx(SCL_ERR_UNSUPPORTED, "cannot write %s: this build of spherecl has no libpng", path);
#endif
}
