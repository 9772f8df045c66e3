/* Fills a buffer with one 32-bit pattern (a float's or an int's bits): scl_tensor_fill. */
__kernel void fill_u32(__global uint *y, uint y_off, uint n, uint bits) {
  uint i = get_global_id(0);
  if (i < n) y[y_off + i] = bits;
}
