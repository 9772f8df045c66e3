/* Image files: PGM/PPM (netpbm, maxval <= 255, rescaled to 0..255), PNG (libpng: grey, RGB, palette,
   alpha dropped, 16-bit reduced to its high byte) and JPEG (libjpeg: grey or colour; a file cut short
   is refused), recognised by their first bytes rather than their names. Each decoder turns a whole
   file held in memory into an scl_image (interleaved 8-bit grey or RGB); conversion to the caller's
   channels, the size check and the (p − 127.5)/128 normalisation are shared by the datasets and
   scl_image_load. */
#include "data/data_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef SCL_HAVE_PNG
#include <png.h>
#endif
#ifdef SCL_HAVE_JPEG
#include <jerror.h>
#include <jpeglib.h>
#include <setjmp.h>
#endif

/* Sides above this, or more bytes than SCL_IMAGE_MAX_BYTES, are refused before any allocation:
   a corrupt header must not make us allocate gigabytes. */
#define SCL_IMAGE_MAX_BYTES ((size_t)1 << 28)
/* Whole files are read into memory; no face image comes near this. */
#define SCL_IMAGE_MAX_FILE ((size_t)1 << 30)

/* ---- shared helpers ------------------------------------------------------------------------------ */

/* Validates the decoded size and allocates the pixel array of img. */
static scl_status image_alloc(const char *path, const char *format, unsigned long width, unsigned long height,
                              int channels, scl_image *img) {
  if (width == 0 || height == 0)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s image %s has a zero width or height", format, path);
  if (width > SCL_IMAGE_MAX_SIDE || height > SCL_IMAGE_MAX_SIDE ||
      (size_t)width * height * (size_t)channels > SCL_IMAGE_MAX_BYTES)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s image %s claims %lux%lu pixels, more than this reader accepts", format,
                           path, width, height);
  img->pixels = malloc((size_t)width * height * (size_t)channels);
  if (!img->pixels) return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "out of host memory decoding %s", path);
  img->width = (int)width;
  img->height = (int)height;
  img->channels = channels;
  return SCL_OK;
}

void scl__image_free(scl_image *img) {
  if (!img) return;
  free(img->pixels);
  img->pixels = NULL;
}

/* ---- PGM / PPM ----------------------------------------------------------------------------------- */

typedef struct {
  const unsigned char *p, *end;
} pnm_cursor;

static int pnm_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* Skips whitespace and '#' comments (which run to the end of the line). */
static void pnm_skip(pnm_cursor *c) {
  while (c->p < c->end) {
    if (pnm_space(*c->p))
      c->p++;
    else if (*c->p == '#')
      while (c->p < c->end && *c->p != '\n' && *c->p != '\r') c->p++;
    else
      break;
  }
}

/* Reads an unsigned decimal after optional whitespace/comments; 0 if there is none (or it is huge). */
static int pnm_number(pnm_cursor *c, unsigned long *v) {
  pnm_skip(c);
  if (c->p >= c->end || *c->p < '0' || *c->p > '9') return 0;
  unsigned long x = 0;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
    if (x > 100000000UL) return 0;
    x = x * 10 + (unsigned long)(*c->p++ - '0');
  }
  *v = x;
  return 1;
}

static scl_status decode_pnm(const char *path, const unsigned char *data, size_t size, scl_image *img) {
  char kind = (char)data[1];
  int ascii = kind == '2' || kind == '3', channels = (kind == '3' || kind == '6') ? 3 : 1;
  const char *format = channels == 3 ? "PPM" : "PGM";
  pnm_cursor c = {data + 2, data + size};
  unsigned long w, h, maxval;
  if (!pnm_number(&c, &w) || !pnm_number(&c, &h) || !pnm_number(&c, &maxval))
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s image %s: malformed or truncated header", format, path);
  if (maxval == 0) return scl__fail_noctx(SCL_ERR_FORMAT, "%s image %s: maxval is 0", format, path);
  if (maxval > 255)
    return scl__fail_noctx(SCL_ERR_UNSUPPORTED, "%s image %s has maxval %lu: only 8-bit files (maxval <= 255) are read",
                           format, path, maxval);
  if (c.p >= c.end || !pnm_space(*c.p))
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s image %s: malformed or truncated header", format, path);
  c.p++; /* the single whitespace character that ends the header */
  if (w == 0 || h == 0 || w > SCL_IMAGE_MAX_SIDE || h > SCL_IMAGE_MAX_SIDE)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s image %s: bad size %lux%lu", format, path, w, h);
  size_t n = (size_t)w * h * (size_t)channels, left = (size_t)(c.end - c.p);
  /* Binary samples are one byte each, ASCII ones at least two ("0 "), minus the last separator. */
  if (ascii ? left + 1 < 2 * n : left < n)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s image %s is truncated: %lux%lu pixels need more than its %zu bytes",
                           format, path, w, h, left);
  scl_status st = image_alloc(path, format, w, h, channels, img);
  if (st != SCL_OK) return st;
  for (size_t i = 0; i < n; i++) {
    unsigned long v;
    if (!ascii)
      v = *c.p++;
    else if (!pnm_number(&c, &v)) {
      scl__image_free(img);
      return scl__fail_noctx(SCL_ERR_FORMAT, "%s image %s: sample %zu of %zu is missing or malformed", format, path,
                             i + 1, n);
    }
    if (v > maxval) {
      scl__image_free(img);
      return scl__fail_noctx(SCL_ERR_FORMAT, "%s image %s: sample %zu is %lu, above maxval %lu", format, path, i + 1, v,
                             maxval);
    }
    /* Rescale to 0..255 so a maxval-15 file looks like its 8-bit equivalent. */
    img->pixels[i] = (unsigned char)(maxval == 255 ? v : (v * 255 + maxval / 2) / maxval);
  }
  return SCL_OK;
}

/* ---- PNG ----------------------------------------------------------------------------------------- */

#ifdef SCL_HAVE_PNG
typedef struct {
  const unsigned char *data;
  size_t size, pos;
  char error[256];
} png_source;

static void png_read_cb(png_structp png, png_bytep out, size_t n) {
  png_source *s = png_get_io_ptr(png);
  if (n > s->size - s->pos) png_error(png, "the file ends early (truncated)");
  memcpy(out, s->data + s->pos, n);
  s->pos += n;
}

static void png_error_cb(png_structp png, png_const_charp msg) {
  png_source *s = png_get_error_ptr(png);
  snprintf(s->error, sizeof s->error, "%s", msg);
  png_longjmp(png, 1);
}

static void png_warning_cb(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

static scl_status decode_png(const char *path, const unsigned char *data, size_t size, scl_image *img) {
  png_source src = {data, size, 0, ""};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_error_cb, png_warning_cb);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!info) {
    png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
    return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "out of host memory decoding %s", path);
  }
  /* Set after setjmp, so volatile: their values must survive the longjmp. */
  unsigned char *volatile pixels = NULL;
  png_bytep *volatile rows = NULL;
  scl_image local = {0, 0, 0, NULL};
  if (setjmp(png_jmpbuf(png))) {
    free(rows);
    free(pixels);
    png_destroy_read_struct(&png, &info, NULL);
    return scl__fail_noctx(SCL_ERR_FORMAT, "PNG image %s is corrupt or truncated: %s", path, src.error);
  }
  png_set_read_fn(png, &src, png_read_cb);
  png_read_info(png, info);
  png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
  int type = png_get_color_type(png, info);
  /* Everything becomes 8-bit grey or RGB: palettes expand, alpha (and tRNS) is dropped. */
  png_set_strip_16(png);
  png_set_packing(png);
  if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8) png_set_expand_gray_1_2_4_to_8(png);
  /* Unconditionally: the expansions above also turn a tRNS chunk into an alpha channel. */
  png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  int channels = png_get_channels(png, info); /* 1 or 3 after the transformations above */
  scl_status st = image_alloc(path, "PNG", w, h, channels, &local);
  if (st != SCL_OK) {
    png_destroy_read_struct(&png, &info, NULL);
    return st;
  }
  pixels = local.pixels;
  rows = malloc(h * sizeof *rows);
  if (!rows) png_error(png, "out of host memory");
  for (png_uint_32 y = 0; y < h; y++) rows[y] = local.pixels + (size_t)y * w * (size_t)channels;
  png_read_image(png, rows);
  png_read_end(png, NULL);
  free(rows);
  png_destroy_read_struct(&png, &info, NULL);
  *img = local;
  return SCL_OK;
}
#endif

/* ---- JPEG ---------------------------------------------------------------------------------------- */

#ifdef SCL_HAVE_JPEG
typedef struct {
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
} jpeg_error;

static void jpeg_error_exit(j_common_ptr cinfo) {
  jpeg_error *e = (jpeg_error *)cinfo->err;
  cinfo->err->format_message(cinfo, e->message);
  longjmp(e->jump, 1);
}

/* libjpeg only warns about a file that ends early (and fills the rest with grey); we refuse it.
   Other warnings (stray bytes before a marker, ...) leave a usable image and stay silent. */
static void jpeg_emit(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) jpeg_error_exit(cinfo);
}

static scl_status decode_jpeg(const char *path, const unsigned char *data, size_t size, scl_image *img) {
  struct jpeg_decompress_struct cinfo;
  jpeg_error err;
  scl_image local = {0, 0, 0, NULL};
  unsigned char *volatile pixels = NULL; /* set after setjmp: volatile survives the longjmp */
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_error_exit;
  err.mgr.emit_message = jpeg_emit;
  if (setjmp(err.jump)) {
    free(pixels);
    jpeg_destroy_decompress(&cinfo);
    return scl__fail_noctx(SCL_ERR_FORMAT, "JPEG image %s is corrupt or truncated: %s", path, err.message);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    jpeg_destroy_decompress(&cinfo);
    return scl__fail_noctx(SCL_ERR_UNSUPPORTED, "JPEG image %s is CMYK: only grey and colour (YCbCr/RGB) are read",
                           path);
  }
  cinfo.out_color_space = cinfo.jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  scl_status st = image_alloc(path, "JPEG", cinfo.output_width, cinfo.output_height, cinfo.output_components, &local);
  if (st != SCL_OK) {
    jpeg_destroy_decompress(&cinfo);
    return st;
  }
  pixels = local.pixels;
  size_t stride = (size_t)local.width * (size_t)local.channels;
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = local.pixels + (size_t)cinfo.output_scanline * stride;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  *img = local;
  return SCL_OK;
}
#endif

/* ---- dispatch ------------------------------------------------------------------------------------ */

typedef enum { FMT_UNKNOWN, FMT_PNM, FMT_PNG, FMT_JPEG } image_format;

static image_format sniff(const unsigned char *d, size_t n) {
  static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (n >= 8 && memcmp(d, png_sig, 8) == 0) return FMT_PNG;
  if (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff) return FMT_JPEG;
  if (n >= 2 && d[0] == 'P' && (d[1] == '2' || d[1] == '3' || d[1] == '5' || d[1] == '6')) return FMT_PNM;
  return FMT_UNKNOWN;
}

static scl_status decode_buffer(const char *path, const unsigned char *data, size_t size, scl_image *img) {
  switch (sniff(data, size)) {
  case FMT_PNM:
    return decode_pnm(path, data, size, img);
  case FMT_PNG:
#ifdef SCL_HAVE_PNG
    return decode_png(path, data, size, img);
#else
    return scl__fail_noctx(SCL_ERR_UNSUPPORTED, "%s is a PNG image, but this spherecl was built without libpng", path);
#endif
  case FMT_JPEG:
#ifdef SCL_HAVE_JPEG
    return decode_jpeg(path, data, size, img);
#else
    return scl__fail_noctx(SCL_ERR_UNSUPPORTED, "%s is a JPEG image, but this spherecl was built without libjpeg",
                           path);
#endif
  default:
    break;
  }
  return scl__fail_noctx(SCL_ERR_FORMAT, "%s is not a PGM, PPM, PNG or JPEG image", path);
}

scl_status scl__image_decode(const char *path, scl_image *img) {
  unsigned char *data = NULL;
  size_t size = 0;
  scl_status st = scl__read_file(path, "image", SCL_IMAGE_MAX_FILE, &data, &size);
  if (st != SCL_OK) return st;
  scl_image local = {0, 0, 0, NULL};
  st = decode_buffer(path, data, size, &local);
  free(data);
  if (st == SCL_OK) *img = local;
  return st;
}

/* ---- conversion and normalisation ---------------------------------------------------------------- */

void scl__image_to_planar(const scl_image *img, int channels, unsigned char *out) {
  size_t hw = (size_t)img->height * (size_t)img->width;
  const unsigned char *px = img->pixels;
  if (img->channels == 3 && channels == 1) {
    for (size_t i = 0; i < hw; i++) {
      const unsigned char *p = px + 3 * i;
      out[i] = (unsigned char)(0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2] + 0.5);
    }
    return;
  }
  /* Same channel count: de-interleave; grey into colour: the grey plane three times. */
  int src_c = img->channels;
  for (int c = 0; c < channels; c++) {
    int from = src_c == channels ? c : 0;
    for (size_t i = 0; i < hw; i++) out[(size_t)c * hw + i] = px[i * (size_t)src_c + (size_t)from];
  }
}

scl_status scl__image_load_planar(const char *path, int channels, int height, int width, unsigned char *out) {
  scl_image img;
  scl_status st = scl__image_decode(path, &img);
  if (st != SCL_OK) return st;
  if (img.height != height || img.width != width) {
    st = scl__fail_noctx(SCL_ERR_SHAPE, "image %s is %dx%d (height x width), expected %dx%d", path, img.height,
                         img.width, height, width);
  } else {
    scl__image_to_planar(&img, channels, out);
  }
  scl__image_free(&img);
  return st;
}

void scl__pixels_normalise(const unsigned char *px, int channels, int height, int width, int mirror, float *out) {
  scl__pixels_window(px, channels, height, width, mirror, 0, 0, height, width, NULL, 127.5f, 1.0f / 128.0f, out);
}

scl_status scl_image_load(const char *path, int channels, int height, int width, float *out) {
  if (!path || !out)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_image_load: %s is NULL", !path ? "path" : "out");
  if (channels != 1 && channels != 3)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_image_load: channels is %d, must be 1 or 3", channels);
  if (height < 1 || width < 1 || height > SCL_IMAGE_MAX_SIDE || width > SCL_IMAGE_MAX_SIDE)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_image_load: size %dx%d is outside 1..%d", height, width,
                           SCL_IMAGE_MAX_SIDE);
  unsigned char *px = malloc((size_t)channels * (size_t)height * (size_t)width);
  if (!px) return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "scl_image_load: out of host memory");
  scl_status st = scl__image_load_planar(path, channels, height, width, px);
  if (st == SCL_OK) scl__pixels_normalise(px, channels, height, width, 0, out);
  free(px);
  return st;
}
