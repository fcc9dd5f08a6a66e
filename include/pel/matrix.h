/**
 * @file pel/matrix.h
 * @brief The matrix layer of pel (see shared DESIGN.md). Not yet populated.
 */
#ifndef PEL_MATRIX_H
#define PEL_MATRIX_H

#include <stddef.h>
#include "pel/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif
