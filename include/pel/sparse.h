/**
 * @file pel/sparse.h
 * @brief The sparse layer of pel (see shared DESIGN.md). Not yet populated.
 */
#ifndef PEL_SPARSE_H
#define PEL_SPARSE_H

#include <stddef.h>
#include "pel/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif
