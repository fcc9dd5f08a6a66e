/**
 * @file pel/fft.h
 * @brief The fft layer of pel (see shared DESIGN.md). Not yet populated.
 */
#ifndef PEL_FFT_H
#define PEL_FFT_H

#include <stddef.h>
#include "pel/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif
