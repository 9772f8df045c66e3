/* Face alignment: the least-squares similarity transform from detected landmarks to reference
   points, and the bilinear warp of an image into the aligned crop with it (the SphereFace
   reference's cp2tform('similarity') + imtransform / cv2.warpAffine, in plain C). */
#include "internal.h"

#include <math.h>
#include <string.h>

/* The SphereFace authors' five points for a 96 (wide) x 112 (high) crop: left eye, right eye,
   nose tip, left mouth corner, right mouth corner (as seen in the image). */
static const float reference_96x112[10] = {30.2946f, 51.6963f, 65.5318f, 51.5014f, 48.0252f,
                                           71.7366f, 33.5493f, 92.3655f, 62.7299f, 92.2041f};

scl_status scl_align_reference_points(int width, int height, int pad, float points[10]) {
  if (!points) return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_align_reference_points: points is NULL");
  if (width < 1 || height < 1 || pad < 0 || width > 65536 || height > 65536 || pad > 65536)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT,
                           "scl_align_reference_points: a %dx%d crop with pad %d (width, height >= 1, pad >= 0)", width,
                           height, pad);
  for (int i = 0; i < 5; i++) {
    points[2 * i] = (float)((double)reference_96x112[2 * i] * width / 96.0 + pad);
    points[2 * i + 1] = (float)((double)reference_96x112[2 * i + 1] * height / 112.0 + pad);
  }
  return SCL_OK;
}

/* dst ≈ [a −b; b a]·src + t. Centring both point sets separates t; what is left is a complex-number
   least-squares fit z' ≈ (a + ib)·z, whose solution is Σ conj(z)·z' / Σ |z|². A rotation and a
   positive scale cannot reflect, so a mirrored face is fitted as well as a rotation allows. */
scl_status scl_align_similarity(const float *src, const float *dst, int npoints, double m[6]) {
  if (!src || !dst || !m)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_align_similarity: %s is NULL",
                           !src ? "src" : !dst ? "dst" : "m");
  if (npoints < 2)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_align_similarity: %d points; a similarity needs at least 2",
                           npoints);
  double sx = 0, sy = 0, dx = 0, dy = 0;
  for (int i = 0; i < npoints; i++) {
    if (!isfinite(src[2 * i]) || !isfinite(src[2 * i + 1]) || !isfinite(dst[2 * i]) || !isfinite(dst[2 * i + 1]))
      return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_align_similarity: point %d is not finite", i + 1);
    sx += src[2 * i], sy += src[2 * i + 1], dx += dst[2 * i], dy += dst[2 * i + 1];
  }
  sx /= npoints, sy /= npoints, dx /= npoints, dy /= npoints;
  double num_re = 0, num_im = 0, den = 0, spread_dst = 0;
  for (int i = 0; i < npoints; i++) {
    double x = src[2 * i] - sx, y = src[2 * i + 1] - sy, u = dst[2 * i] - dx, v = dst[2 * i + 1] - dy;
    num_re += x * u + y * v; /* Re(conj(z)·z') */
    num_im += x * v - y * u; /* Im(conj(z)·z') */
    den += x * x + y * y;
    spread_dst += u * u + v * v;
  }
  /* All source points (nearly) equal: every scale and rotation fits equally badly. */
  if (!(den > 1e-12 * (spread_dst + 1.0)))
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT,
                           "scl_align_similarity: the %d source points are all the same point (%g, %g): no transform "
                           "can be fitted",
                           npoints, sx, sy);
  double a = num_re / den, b = num_im / den;
  m[0] = a, m[1] = -b, m[2] = dx - (a * sx - b * sy);
  m[3] = b, m[4] = a, m[5] = dy - (b * sx + a * sy);
  return SCL_OK;
}

/* One channel of src at (x, y) by bilinear interpolation, pixels outside the image counting as 0
   (pixel centres at integer coordinates, as OpenCV's warpAffine with BORDER_CONSTANT). */
static double sample(const unsigned char *src, int channels, int h, int w, int c, double x, double y) {
  double fx = floor(x), fy = floor(y);
  if (fx < -1 || fy < -1 || fx > w || fy > h) return 0; /* also keeps the casts below in range */
  int x0 = (int)fx, y0 = (int)fy;
  double ax = x - fx, ay = y - fy, v = 0;
  for (int dy = 0; dy < 2; dy++)
    for (int dx = 0; dx < 2; dx++) {
      int xx = x0 + dx, yy = y0 + dy;
      if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
      double wgt = (dx ? ax : 1 - ax) * (dy ? ay : 1 - ay);
      v += wgt * src[((size_t)yy * w + xx) * channels + c];
    }
  return v;
}

scl_status scl_align_warp(const unsigned char *src, int channels, int src_height, int src_width, const double m[6],
                          int out_height, int out_width, unsigned char *out) {
  if (!src || !m || !out)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_align_warp: %s is NULL", !src ? "src" : !m ? "m" : "out");
  if (channels < 1 || channels > 4 || src_height < 1 || src_width < 1 || out_height < 1 || out_width < 1)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT,
                           "scl_align_warp: %d channels, source %dx%d, crop %dx%d (channels 1..4, sizes >= 1)",
                           channels, src_width, src_height, out_width, out_height);
  /* The inverse map: out pixel (x, y) comes from m⁻¹·(x, y). */
  double det = m[0] * m[4] - m[1] * m[3];
  if (!isfinite(det) || fabs(det) < 1e-300)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_align_warp: the transform is singular (determinant %g)", det);
  double i0 = m[4] / det, i1 = -m[1] / det, i3 = -m[3] / det, i4 = m[0] / det;
  double i2 = -(i0 * m[2] + i1 * m[5]), i5 = -(i3 * m[2] + i4 * m[5]);
  for (int y = 0; y < out_height; y++)
    for (int x = 0; x < out_width; x++) {
      double sx = i0 * x + i1 * y + i2, sy = i3 * x + i4 * y + i5;
      for (int c = 0; c < channels; c++) {
        double v = sample(src, channels, src_height, src_width, c, sx, sy);
        out[((size_t)y * out_width + x) * channels + c] = (unsigned char)(v <= 0 ? 0 : v >= 255 ? 255 : floor(v + 0.5));
      }
    }
  return SCL_OK;
}
