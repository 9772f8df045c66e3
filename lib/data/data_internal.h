/* Internal pieces of the data readers, shared by the files of lib/data (and usable by the pairs and CLI code).
   Every function here reports failures through scl__fail_noctx, naming the file and what is wrong. */
#ifndef SPHERECL_DATA_INTERNAL_H
#define SPHERECL_DATA_INTERNAL_H

#include "internal.h"

#include <stddef.h>

/* ---- images (image.c) ---------------------------------------------------------------------------- */

#define SCL_IMAGE_MAX_SIDE 32768 /* larger images are refused before anything is allocated */

/* A decoded image, pixels interleaved (row by row, channel fastest) as the file stores them. */
typedef struct {
  int channels; /* 1 (grey) or 3 (RGB): alpha is dropped, palettes are expanded */
  int height, width;
  unsigned char *pixels; /* [height, width, channels] */
} scl_image;

/* Decodes a PGM/PPM (P2, P3, P5, P6; maxval <= 255), PNG or JPEG file, recognised by its content.
   SCL_ERR_IO: unreadable; SCL_ERR_FORMAT: corrupt or not an image; SCL_ERR_UNSUPPORTED: a format
   this build lacks (no libpng / libjpeg) or a variant it does not read (16-bit PGM, CMYK JPEG). */
scl_status scl__image_decode(const char *path, scl_image *img);
void scl__image_free(scl_image *img);

/* Copies img into planar out [channels, height, width] (channels 1 or 3): grey is replicated into
   colour, colour becomes grey as round(0.299 R + 0.587 G + 0.114 B). */
void scl__image_to_planar(const scl_image *img, int channels, unsigned char *out);

/* Decodes path and converts it to planar [channels, height, width] bytes in out. A file of another
   height or width is SCL_ERR_SHAPE naming it (out is then untouched). */
scl_status scl__image_load_planar(const char *path, int channels, int height, int width, unsigned char *out);

/* out [c, h, w] = (p − 127.5) / 128 of planar bytes px [c, h, w], flipped along w when mirror. */
void scl__pixels_normalise(const unsigned char *px, int channels, int height, int width, int mirror, float *out);
/* out [c, height, width] = (p − mean)·scale of the window of planar bytes px [c, h, w] at (top, left)
   (after flipping the whole image along w when mirror), channel c taken from source channel
   order[c] (NULL: the same channel). The window must lie inside the image. */
void scl__pixels_window(const unsigned char *px, int channels, int h, int w, int mirror, int top, int left, int height,
                        int width, const int *order, float mean, float scale, float *out);
/* Writes interleaved bytes [height, width, channels] (1 grey, 3 RGB) as a PNG, atomically.
   SCL_ERR_UNSUPPORTED in a build without libpng. */
scl_status scl__image_write_png(const char *path, const unsigned char *pixels, int channels, int height, int width);

/* ---- MNIST IDX files (idx.c) --------------------------------------------------------------------- */

/* Reads one MNIST pair (train = 1: train-*, else t10k-*) from dir; each file raw or .gz (raw preferred).
   On success *pixels holds count × rows × cols bytes and *labels count bytes (each 0..9), both malloc'd. */
scl_status scl__mnist_read(const char *dir, int train, size_t *count, int *rows, int *cols, unsigned char **pixels,
                           unsigned char **labels);

/* ---- image folders (folder.c) -------------------------------------------------------------------- */

/* "s2" < "s10": digit runs compare by value, everything else byte by byte; names that tie this way
   ("s01", "s1") fall back to strcmp, so the order is total. Returns <0, 0 or >0. */
int scl__natural_compare(const char *a, const char *b);

/* One identity: its folder name and its image files (full paths), both in natural order. */
typedef struct {
  char *name;
  char **files;
  size_t nfiles;
} scl_folder_class;

typedef struct {
  scl_folder_class *classes;
  size_t nclasses;
  size_t nfiles; /* over all classes */
} scl_folder;

/* Lists root's identity folders (natural order; hidden entries and folders without images skipped),
   keeps identities first..last (1-based, inclusive, 0 = no limit) and their .pgm/.ppm/.png/.jpg/.jpeg
   files (case-insensitive, hidden files skipped). Out-of-range first/last: SCL_ERR_INVALID_ARGUMENT;
   no identity with images: SCL_ERR_FORMAT; root unreadable: SCL_ERR_IO. */
scl_status scl__folder_scan(const char *root, int first, int last, scl_folder *out);
void scl__folder_free(scl_folder *f);
/* Leaves out of f the identities named in exclude and those with fewer than min_images images (the
   kept ones stay in order). None left: SCL_ERR_FORMAT saying how many each rule removed. */
scl_status scl__folder_filter(const char *root, int min_images, const char *const *exclude, size_t nexclude,
                              scl_folder *f);

#endif
