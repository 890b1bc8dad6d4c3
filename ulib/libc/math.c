/* The one libm function Embedded Swift's Dictionary needs (sizing its hash table). */
double ceil(double x) {
  /* NaN, infinities and doubles past 2^52 are already whole. */
  if (!(x == x) || x >= 4503599627370496.0 || x <= -4503599627370496.0) return x;
  double truncated = (double)(long long)x;
  return truncated < x ? truncated + 1.0 : truncated;
}
