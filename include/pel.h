/**
 * @file pel.h
 * @brief Umbrella header of pel, the OpenMP-accelerated numerics library.
 *
 * Include this one header to get the whole public API: core (status codes,
 * errors, memory, threads), exec (parallel loops, reproducible reductions,
 * tasks), matrix, sparse, fft and stencil.
 */
#ifndef PEL_H
#define PEL_H

#include "pel/core.h"
#include "pel/exec.h"
#include "pel/matrix.h"
#include "pel/sparse.h"
#include "pel/fft.h"
#include "pel/stencil.h"
#include "pel/tune.h"

#endif
