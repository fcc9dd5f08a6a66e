#include "pel_test.h"
static void add(void) {}
int main(void) { return pel_test_main("x", add); }
