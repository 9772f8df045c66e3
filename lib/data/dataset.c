/* Datasets: MNIST (all pixels kept in memory as bytes) and image folders (decoded when fetched).
   A fetch first gathers the requested samples as bytes into a staging buffer and only then writes
   the caller's arrays, so a failure (an index out of range, an unreadable or odd-sized image)
   leaves images and labels untouched. */
#include "data/data_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct scl_dataset_s {
  int channels, height, width;
  size_t count;
  int nclasses;
  const char **class_names; /* [nclasses]: static digits (MNIST) or the folder's names */
  int *labels;              /* [count] */
  unsigned char *pixels;    /* MNIST: [count, C, H, W]; NULL for folders */
  const char **paths;       /* folders: [count] the file of each sample (owned by folder) */
  scl_folder folder;
};

static scl_dataset dataset_new(void) {
  scl_dataset ds = calloc(1, sizeof *ds);
  if (!ds) scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "out of host memory creating a dataset");
  return ds;
}

void scl_dataset_release(scl_dataset ds) {
  if (!ds) return;
  free(ds->class_names);
  free(ds->labels);
  free(ds->pixels);
  free(ds->paths);
  scl__folder_free(&ds->folder);
  free(ds);
}

scl_status scl_dataset_open_mnist(const char *dir, int train, scl_dataset *out) {
  static const char *const digits[10] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  if (!dir || !out)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_dataset_open_mnist: %s is NULL", !dir ? "dir" : "ds");
  size_t count;
  int rows, cols;
  unsigned char *pixels, *labels;
  scl_status st = scl__mnist_read(dir, train, &count, &rows, &cols, &pixels, &labels);
  if (st != SCL_OK) return st;
  scl_dataset ds = dataset_new();
  if (ds) {
    ds->labels = malloc(count * sizeof *ds->labels);
    ds->class_names = malloc(10 * sizeof *ds->class_names);
  }
  if (!ds || !ds->labels || !ds->class_names) {
    free(pixels), free(labels);
    scl_dataset_release(ds);
    return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "out of host memory opening MNIST in %s", dir);
  }
  for (size_t i = 0; i < count; i++) ds->labels[i] = labels[i];
  free(labels);
  memcpy(ds->class_names, digits, sizeof digits);
  ds->channels = 1, ds->height = rows, ds->width = cols;
  ds->count = count;
  ds->nclasses = 10;
  ds->pixels = pixels;
  *out = ds;
  return SCL_OK;
}

/* Indexes the folder's samples: labels follow the identities, paths point into the folder. */
static scl_status index_folder(scl_dataset ds) {
  scl_folder *f = &ds->folder;
  ds->count = f->nfiles;
  ds->nclasses = (int)f->nclasses;
  ds->labels = malloc(f->nfiles * sizeof *ds->labels);
  ds->paths = malloc(f->nfiles * sizeof *ds->paths);
  ds->class_names = malloc(f->nclasses * sizeof *ds->class_names);
  if (!ds->labels || !ds->paths || !ds->class_names)
    return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "out of host memory indexing an image folder");
  size_t k = 0;
  for (size_t c = 0; c < f->nclasses; c++) {
    ds->class_names[c] = f->classes[c].name;
    for (size_t j = 0; j < f->classes[c].nfiles; j++, k++) {
      ds->labels[k] = (int)c;
      ds->paths[k] = f->classes[c].files[j];
    }
  }
  return SCL_OK;
}

scl_status scl_dataset_open_folder_filtered(const char *root, const scl_folder_filter *filter, scl_dataset *out) {
  if (!root || !out)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_dataset_open_folder: %s is NULL", !root ? "root" : "ds");
  static const scl_folder_filter none = {0, 0, 0, NULL, 0};
  if (!filter) filter = &none;
  if (filter->min_images < 0)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "image folder %s: min_images %d is negative", root,
                           filter->min_images);
  scl_dataset ds = dataset_new();
  if (!ds) return SCL_ERR_OUT_OF_MEMORY;
  scl_status st = scl__folder_scan(root, filter->first, filter->last, &ds->folder);
  if (st == SCL_OK && (filter->min_images > 1 || filter->nexclude))
    st = scl__folder_filter(root, filter->min_images, filter->exclude, filter->nexclude, &ds->folder);
  if (st == SCL_OK && ds->folder.nclasses > (size_t)0x7fffffff)
    st = scl__fail_noctx(SCL_ERR_UNSUPPORTED, "image folder %s has more identities than an int holds", root);
  if (st == SCL_OK) st = index_folder(ds);
  if (st == SCL_OK) {
    /* The first image fixes the dataset's shape; the others are checked when fetched. */
    scl_image first_img;
    st = scl__image_decode(ds->paths[0], &first_img);
    if (st == SCL_OK) {
      ds->channels = first_img.channels;
      ds->height = first_img.height;
      ds->width = first_img.width;
      scl__image_free(&first_img);
    }
  }
  if (st != SCL_OK) {
    scl_dataset_release(ds);
    return st;
  }
  *out = ds;
  return SCL_OK;
}

scl_status scl_dataset_open_folder(const char *root, int first, int last, scl_dataset *out) {
  scl_folder_filter f = {first, last, 0, NULL, 0};
  return scl_dataset_open_folder_filtered(root, &f, out);
}

size_t scl_dataset_size(scl_dataset ds) { return ds ? ds->count : 0; }

int scl_dataset_classes(scl_dataset ds) { return ds ? ds->nclasses : 0; }

void scl_dataset_shape(scl_dataset ds, int *channels, int *height, int *width) {
  if (channels) *channels = ds ? ds->channels : 0;
  if (height) *height = ds ? ds->height : 0;
  if (width) *width = ds ? ds->width : 0;
}

const char *scl_dataset_class_name(scl_dataset ds, int label) {
  if (!ds || label < 0 || label >= ds->nclasses) return NULL;
  return ds->class_names[label];
}

/* The bytes [C, H, W] of sample i: MNIST's are in memory, a folder's image is decoded. */
static scl_status sample_bytes(scl_dataset ds, size_t i, size_t sample, unsigned char *out) {
  if (ds->pixels) {
    memcpy(out, ds->pixels + i * sample, sample);
    return SCL_OK;
  }
  return scl__image_load_planar(ds->paths[i], ds->channels, ds->height, ds->width, out);
}

scl_status scl_dataset_get_crops(scl_dataset ds, const size_t *indices, size_t n, const unsigned char *mirror,
                                 const int *top, const int *left, int height, int width, float *images,
                                 int *labels) {
  if (!ds) return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_dataset_get: ds is NULL");
  if (n == 0) return SCL_OK;
  if (!indices) return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_dataset_get: indices is NULL");
  if (height < 1 || width < 1 || height > ds->height || width > ds->width)
    return scl__fail_noctx(SCL_ERR_SHAPE, "scl_dataset_get: a %dx%d crop of %dx%d images (height x width)", height,
                           width, ds->height, ds->width);
  for (size_t k = 0; k < n; k++) {
    if (indices[k] >= ds->count)
      return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT,
                             "scl_dataset_get: indices[%zu] = %zu, the dataset has %zu samples", k, indices[k],
                             ds->count);
    if ((top && (top[k] < 0 || top[k] > ds->height - height)) || (left && (left[k] < 0 || left[k] > ds->width - width)))
      return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT,
                             "scl_dataset_get: crop %zu at row %d, column %d leaves the %dx%d image", k,
                             top ? top[k] : 0, left ? left[k] : 0, ds->height, ds->width);
  }
  if (images) {
    size_t sample = (size_t)ds->channels * (size_t)ds->height * (size_t)ds->width;
    size_t out_sample = (size_t)ds->channels * (size_t)height * (size_t)width;
    if (n > ((size_t)-1) / sample)
      return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_dataset_get: a batch of %zu samples is too large", n);
    unsigned char *staging = malloc(n * sample);
    if (!staging)
      return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "scl_dataset_get: out of host memory for %zu samples", n);
    for (size_t k = 0; k < n; k++) {
      scl_status st = sample_bytes(ds, indices[k], sample, staging + k * sample);
      if (st != SCL_OK) {
        free(staging);
        return st;
      }
    }
    for (size_t k = 0; k < n; k++)
      scl__pixels_window(staging + k * sample, ds->channels, ds->height, ds->width, mirror && mirror[k],
                         top ? top[k] : (ds->height - height) / 2, left ? left[k] : (ds->width - width) / 2, height,
                         width, NULL, 127.5f, 1.0f / 128.0f, images + k * out_sample);
    free(staging);
  }
  if (labels)
    for (size_t k = 0; k < n; k++) labels[k] = ds->labels[indices[k]];
  return SCL_OK;
}

scl_status scl_dataset_get(scl_dataset ds, const size_t *indices, size_t n, const unsigned char *mirror, float *images,
                           int *labels) {
  if (!ds) return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_dataset_get: ds is NULL");
  return scl_dataset_get_crops(ds, indices, n, mirror, NULL, NULL, ds->height, ds->width, images, labels);
}
