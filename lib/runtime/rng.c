/* Deterministic random numbers: splitmix64, so a seed gives the same initialisation and the same
   shuffles on every platform and compiler. */
#include "internal.h"

#include <math.h>

scl_rng scl__rng_make(uint64_t seed) {
  scl_rng r = {seed ^ 0x5DEECE66DULL};
  return r;
}

uint64_t scl__rng_next(scl_rng *r) {
  uint64_t z = (r->state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double scl__rng_uniform(scl_rng *r, double lo, double hi) {
  return lo + (hi - lo) * ((double)(scl__rng_next(r) >> 11) * 0x1.0p-53);
}

double scl__rng_normal(scl_rng *r) {
  double u = 1.0 - scl__rng_uniform(r, 0.0, 1.0); /* (0, 1]: log is finite */
  double v = scl__rng_uniform(r, 0.0, 1.0);
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

size_t scl__rng_below(scl_rng *r, size_t n) { return n ? (size_t)(scl__rng_next(r) % n) : 0; }

void scl__rng_shuffle(scl_rng *r, size_t *idx, size_t n) {
  for (size_t i = n; i > 1; i--) {
    size_t j = scl__rng_below(r, i);
    size_t t = idx[i - 1];
    idx[i - 1] = idx[j];
    idx[j] = t;
  }
}
