#include "pel_test.h"
static void add_suites(void) {}
int main(void) { return pel_test_main("test_fft_convolve", add_suites); }
